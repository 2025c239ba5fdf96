//! Relationships derived from foreign keys, following PostgREST's "Resource Embedding" rules:
//! many-to-one from each foreign key, its inverse one-to-many, one-to-one when the foreign-key
//! columns are unique, and many-to-many through a junction table whose primary key holds the
//! columns of two foreign keys.

use crate::model::{Catalog, Table};

/// How many rows of the target one row of the source relates to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cardinality {
    /// The source holds the foreign key: at most one target (embedded as an object or null).
    ManyToOne,
    /// The target holds the foreign key: any number of targets (embedded as an array).
    OneToMany,
    /// Either side, with the foreign-key columns unique: at most one (an object or null).
    OneToOne,
    /// Through a junction table: any number (an array).
    ManyToMany,
}

impl Cardinality {
    /// PostgREST's short name (`m2o`, `o2m`, `o2o`, `m2m`), used in error details.
    pub fn short_name(self) -> &'static str {
        match self {
            Cardinality::ManyToOne => "many-to-one",
            Cardinality::OneToMany => "one-to-many",
            Cardinality::OneToOne => "one-to-one",
            Cardinality::ManyToMany => "many-to-many",
        }
    }
}

/// The junction of a many-to-many relationship.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Junction {
    /// The junction table.
    pub table: String,
    /// The junction's foreign key to the source.
    pub source_constraint: String,
    /// Pairs `(source column, junction column)`.
    pub source_columns: Vec<(String, String)>,
    /// The junction's foreign key to the target.
    pub target_constraint: String,
    /// Pairs `(junction column, target column)`.
    pub target_columns: Vec<(String, String)>,
}

/// A way to embed `target` in a row of `source`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relationship {
    /// Where the embedding starts.
    pub source: String,
    /// What is embedded.
    pub target: String,
    /// Whether the target is a view (PostgREST matches views by name only).
    pub target_is_view: bool,
    /// To-one or to-many, and how.
    pub cardinality: Cardinality,
    /// The foreign-key constraint (for many-to-many: the junction's key to the target).
    pub constraint: String,
    /// Join pairs `(source column, target column)`; empty for many-to-many.
    pub columns: Vec<(String, String)>,
    /// The junction, for many-to-many.
    pub junction: Option<Junction>,
}

impl Relationship {
    /// Whether at most one target row relates to a source row.
    pub fn is_to_one(&self) -> bool {
        matches!(self.cardinality, Cardinality::ManyToOne | Cardinality::OneToOne)
    }

    /// Whether source and target are the same table.
    pub fn is_self(&self) -> bool {
        self.source == self.target
    }

    /// The single column of the foreign key on the source side, when the key has one column
    /// (PostgREST matches embeds and hints against it).
    pub fn single_source_column(&self) -> Option<&str> {
        match self.columns.as_slice() {
            [(s, _)] => Some(s),
            _ => None,
        }
    }

    /// The single column on the target side, when the key has one column.
    pub fn single_target_column(&self) -> Option<&str> {
        match self.columns.as_slice() {
            [(_, t)] => Some(t),
            _ => None,
        }
    }

    /// `constraint using Table(cols) and Target(cols)`: PostgREST's description in `PGRST201`.
    pub fn describe(&self) -> String {
        match &self.junction {
            Some(j) => format!(
                "{}({}) and {}({})",
                j.table,
                j.source_columns.iter().map(|(_, c)| c.as_str()).collect::<Vec<_>>().join(", "),
                j.table,
                j.target_columns.iter().map(|(c, _)| c.as_str()).collect::<Vec<_>>().join(", "),
            ),
            None => {
                let (fk_side, ref_side) = match self.cardinality {
                    Cardinality::OneToMany => (&self.target, &self.source),
                    _ => (&self.source, &self.target),
                };
                let (fk_cols, ref_cols): (Vec<&str>, Vec<&str>) = self
                    .columns
                    .iter()
                    .map(|(s, t)| {
                        if self.cardinality == Cardinality::OneToMany {
                            (t.as_str(), s.as_str())
                        } else {
                            (s.as_str(), t.as_str())
                        }
                    })
                    .unzip();
                format!(
                    "{} using {fk_side}({}) and {ref_side}({})",
                    self.constraint,
                    fk_cols.join(", "),
                    ref_cols.join(", ")
                )
            }
        }
    }
}

/// Derives, for each table of the catalog (same index), the relationships starting there.
pub(crate) fn derive_relationships(catalog: &Catalog) -> Vec<Vec<Relationship>> {
    let tables = catalog.tables();
    let index = |name: &str| tables.iter().position(|t| t.name == name);
    let mut out: Vec<Vec<Relationship>> = vec![Vec::new(); tables.len()];
    for (holder_index, holder) in tables.iter().enumerate() {
        for fk in &holder.foreign_keys {
            let Some(ref_index) = index(&fk.referenced_table) else { continue };
            let referenced = &tables[ref_index];
            let one_to_one = holder.is_unique_constraint(&fk.columns);
            let pairs: Vec<(String, String)> =
                fk.columns.iter().cloned().zip(fk.referenced_columns.iter().cloned()).collect();
            out[holder_index].push(Relationship {
                source: holder.name.clone(),
                target: referenced.name.clone(),
                target_is_view: false,
                cardinality: if one_to_one { Cardinality::OneToOne } else { Cardinality::ManyToOne },
                constraint: fk.name.clone(),
                columns: pairs.clone(),
                junction: None,
            });
            out[ref_index].push(Relationship {
                source: referenced.name.clone(),
                target: holder.name.clone(),
                target_is_view: false,
                cardinality: if one_to_one { Cardinality::OneToOne } else { Cardinality::OneToMany },
                constraint: fk.name.clone(),
                columns: pairs.into_iter().map(|(h, r)| (r, h)).collect(),
                junction: None,
            });
        }
        for rel in junction_relationships(holder, &index) {
            let source = index(&rel.source).unwrap_or(holder_index);
            out[source].push(rel);
        }
    }
    out
}

/// Many-to-many relationships through `junction`: every ordered pair of two different foreign
/// keys whose columns all belong to the junction's primary key.
fn junction_relationships(junction: &Table, index: &dyn Fn(&str) -> Option<usize>) -> Vec<Relationship> {
    let in_pk = |cols: &[String]| cols.iter().all(|c| junction.primary_key.contains(c));
    let keys: Vec<_> =
        junction.foreign_keys.iter().filter(|fk| in_pk(&fk.columns) && index(&fk.referenced_table).is_some()).collect();
    let mut rels = Vec::new();
    for a in &keys {
        for b in &keys {
            if a.name == b.name {
                continue;
            }
            rels.push(Relationship {
                source: a.referenced_table.clone(),
                target: b.referenced_table.clone(),
                target_is_view: false,
                cardinality: Cardinality::ManyToMany,
                constraint: b.name.clone(),
                columns: Vec::new(),
                junction: Some(crate::relationship::Junction {
                    table: junction.name.clone(),
                    source_constraint: a.name.clone(),
                    source_columns: a.referenced_columns.iter().cloned().zip(a.columns.iter().cloned()).collect(),
                    target_constraint: b.name.clone(),
                    target_columns: b.columns.iter().cloned().zip(b.referenced_columns.iter().cloned()).collect(),
                }),
            });
        }
    }
    rels
}
