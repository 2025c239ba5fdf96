//! Finding the relationship an embed names, with PostgREST's rules (`Plan.findRel`): by target
//! table name, foreign-key name or single foreign-key column, narrowed by a hint (a foreign-key
//! name, a column on either side, or the junction table); self-references read the target's table
//! name as one-to-many and the foreign-key column as many-to-one.

use rowbase_catalog::{Cardinality, Catalog, Relationship};

use crate::error::PlanError;

/// The one relationship from `source` that `target!hint` names.
///
/// Errors: `PGRST200` when none matches, `PGRST201` when several do.
pub(crate) fn find_relationship<'c>(
    catalog: &'c Catalog,
    schema: &str,
    source: &str,
    target: &str,
    hint: Option<&str>,
) -> Result<&'c Relationship, PlanError> {
    let all = catalog.relationships(source);
    let found: Vec<&Relationship> = all.iter().filter(|r| matches(r, target, hint)).collect();
    match found.as_slice() {
        [one] => Ok(one),
        [] => Err(PlanError::NoRelationship {
            source_table: source.to_string(),
            target: target.to_string(),
            hint: hint.map(str::to_string),
            schema: schema.to_string(),
            suggestion: crate::read::closest(target, all.iter().map(|r| r.target.as_str())),
        }),
        many => Err(PlanError::AmbiguousRelationship {
            source_table: source.to_string(),
            target: target.to_string(),
            candidates: many.iter().map(|r| (*r).clone()).collect(),
        }),
    }
}

fn matches(rel: &Relationship, target: &str, hint: Option<&str>) -> bool {
    let direct = rel.junction.is_none();
    let fk_column = |name: &str| direct && rel.single_source_column() == Some(name);
    let ref_column = |name: &str| direct && rel.single_target_column() == Some(name);
    if rel.is_self() {
        return match hint {
            None => {
                (target == rel.target && rel.cardinality == Cardinality::OneToMany)
                    || (fk_column(target) && rel.cardinality == Cardinality::ManyToOne)
            }
            Some(h) => target == rel.target && rel.cardinality == Cardinality::OneToMany && ref_column(h),
        };
    }
    match hint {
        None => {
            target == rel.target || (!rel.target_is_view && direct && (target == rel.constraint || fk_column(target)))
        }
        Some(h) => {
            target == rel.target
                && ((direct && h == rel.constraint)
                    || fk_column(h)
                    || ref_column(h)
                    || rel.junction.as_ref().is_some_and(|j| j.table == h))
        }
    }
}
