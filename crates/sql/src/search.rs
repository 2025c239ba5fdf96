//! Full-text search queries: the four PostgREST operators' query languages read into one tree,
//! written back in the syntax of engines that are not PostgreSQL (which parses them itself).
//!
//! - `fts` is `to_tsquery` syntax: words joined by `&`, `|`, `<->`, negated with `!`, grouped
//!   with parentheses, `word:*` for a prefix (PostgreSQL docs, "Parsing Queries", §12.3.2).
//! - `plfts` (`plainto_tsquery`): every word must occur.
//! - `phfts` (`phraseto_tsquery`): the words in this order, adjacent.
//! - `wfts` (`websearch_to_tsquery`): words, `"quoted phrases"`, `-word` and `or`.
//!
//! Words are runs of letters and digits, as PostgreSQL's default parser, SQLite's `unicode61`
//! tokenizer and InnoDB's full-text parser split them, so nothing else of the query text reaches
//! the engine's query syntax.

use rowbase_request::FtsKind;

use crate::dialect::RenderError;

/// A search query as a tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Search {
    /// One word; `prefix` matches every word that starts with it.
    Term {
        /// The word (letters and digits only).
        word: String,
        /// `word:*`.
        prefix: bool,
    },
    /// Adjacent words in order (two or more).
    Phrase(Vec<String>),
    /// Every part must match.
    And(Vec<Search>),
    /// Any part may match.
    Or(Vec<Search>),
    /// The part must not match.
    Not(Box<Search>),
}

/// Reads `text` in the language of operator `kind`. `Ok(None)`: the query holds no word, and
/// matches nothing (as PostgreSQL's empty tsquery).
///
/// Errors: a malformed `fts` query (unbalanced parentheses, a missing operand or operator),
/// described.
pub fn parse(kind: FtsKind, text: &str) -> Result<Option<Search>, String> {
    Ok(match kind {
        FtsKind::Plain => and(words(text).into_iter().map(|w| Search::Term { word: w, prefix: false }).collect()),
        FtsKind::Phrase => phrase(words(text), false),
        FtsKind::Websearch => websearch(text),
        FtsKind::Fts => {
            let mut parser = TsQuery { tokens: ts_tokens(text)?, at: 0 };
            if parser.tokens.is_empty() {
                return Ok(None);
            }
            let tree = parser.or()?;
            if let Some(token) = parser.tokens.get(parser.at) {
                return Err(format!("syntax error in tsquery: unexpected {token:?}"));
            }
            Some(tree)
        }
    })
}

/// The runs of letters and digits of `text`, lowercased.
fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_lowercase).collect()
}

/// One word as a term, several as a phrase, none as nothing.
fn phrase(mut words: Vec<String>, prefix: bool) -> Option<Search> {
    match words.len() {
        0 => None,
        1 => Some(Search::Term { word: words.remove(0), prefix }),
        _ => Some(Search::Phrase(words)),
    }
}

fn and(mut parts: Vec<Search>) -> Option<Search> {
    match parts.len() {
        0 => None,
        1 => parts.pop(),
        _ => Some(Search::And(parts)),
    }
}

fn or(mut parts: Vec<Search>) -> Option<Search> {
    match parts.len() {
        0 => None,
        1 => parts.pop(),
        _ => Some(Search::Or(parts)),
    }
}

/// `websearch_to_tsquery`: never an error, whatever the text.
fn websearch(text: &str) -> Option<Search> {
    let mut groups: Vec<Vec<Search>> = vec![Vec::new()];
    let mut chars = text.chars().peekable();
    let mut negate = false;
    let mut boundary = true;
    while let Some(&c) = chars.peek() {
        let before = boundary;
        boundary = !(c.is_alphanumeric() || c == '"');
        let item = if c == '"' {
            chars.next();
            let quoted: String = chars.by_ref().take_while(|&c| c != '"').collect();
            phrase(words(&quoted), false)
        } else if c == '-' {
            chars.next();
            // `-word` negates; `foo-bar` is two words.
            negate = before;
            continue;
        } else if c.is_alphanumeric() {
            let mut word = String::new();
            while let Some(&c) = chars.peek() {
                if !c.is_alphanumeric() {
                    break;
                }
                word.push(c);
                chars.next();
            }
            let last = groups.last().is_some_and(|g| !g.is_empty());
            if word.eq_ignore_ascii_case("or") && last && !negate {
                groups.push(Vec::new());
                continue;
            }
            Some(Search::Term { word: word.to_lowercase(), prefix: false })
        } else {
            chars.next();
            negate = false;
            continue;
        };
        if let (Some(item), Some(group)) = (item, groups.last_mut()) {
            group.push(if negate { Search::Not(Box::new(item)) } else { item });
        }
        negate = false;
    }
    or(groups.into_iter().filter_map(and).collect())
}

/// A token of `to_tsquery` syntax.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Word(String, bool),
    And,
    Or,
    Not,
    FollowedBy,
    Open,
    Close,
}

fn ts_tokens(text: &str) -> Result<Vec<Token>, String> {
    let mut tokens = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '&' => tokens.push(Token::And),
            '|' => tokens.push(Token::Or),
            '!' => tokens.push(Token::Not),
            '(' => tokens.push(Token::Open),
            ')' => tokens.push(Token::Close),
            '<' => {
                // `<->` or `<N>`: followed by (at distance N, read as adjacent).
                let inner: String = chars.by_ref().take_while(|&c| c != '>').collect();
                if inner != "-" && inner.parse::<u32>().is_err() {
                    return Err(format!("syntax error in tsquery: <{inner}"));
                }
                tokens.push(Token::FollowedBy);
            }
            c if c.is_whitespace() => {}
            c => {
                // A word (quoted with ' or bare), then `:*` / weights.
                let mut word = String::new();
                if c == '\'' {
                    word.extend(chars.by_ref().take_while(|&c| c != '\''));
                } else {
                    word.push(c);
                    while let Some(&c) = chars.peek() {
                        if c.is_whitespace() || "&|!()<:".contains(c) {
                            break;
                        }
                        word.push(c);
                        chars.next();
                    }
                }
                let mut prefix = false;
                if chars.peek() == Some(&':') {
                    chars.next();
                    while let Some(&c) = chars.peek() {
                        match c {
                            '*' => prefix = true,
                            'a'..='d' | 'A'..='D' => {}
                            _ => break,
                        }
                        chars.next();
                    }
                }
                tokens.push(Token::Word(word, prefix));
            }
        }
    }
    Ok(tokens)
}

/// Recursive descent over `to_tsquery` tokens: `|` binds loosest, then `&`, then `<->`, then `!`.
struct TsQuery {
    tokens: Vec<Token>,
    at: usize,
}

impl TsQuery {
    fn next_is(&mut self, token: &Token) -> bool {
        let yes = self.tokens.get(self.at) == Some(token);
        if yes {
            self.at += 1;
        }
        yes
    }

    fn or(&mut self) -> Result<Search, String> {
        let mut parts = vec![self.and()?];
        while self.next_is(&Token::Or) {
            parts.push(self.and()?);
        }
        Ok(flatten(parts, Search::Or))
    }

    fn and(&mut self) -> Result<Search, String> {
        let mut parts = vec![self.followed_by()?];
        while self.next_is(&Token::And) {
            parts.push(self.followed_by()?);
        }
        Ok(flatten(parts, Search::And))
    }

    fn followed_by(&mut self) -> Result<Search, String> {
        let first = self.not()?;
        if self.tokens.get(self.at) != Some(&Token::FollowedBy) {
            return Ok(first);
        }
        let mut words = phrase_words(first)?;
        while self.next_is(&Token::FollowedBy) {
            words.extend(phrase_words(self.not()?)?);
        }
        Ok(Search::Phrase(words))
    }

    fn not(&mut self) -> Result<Search, String> {
        if self.next_is(&Token::Not) {
            return Ok(Search::Not(Box::new(self.not()?)));
        }
        match self.tokens.get(self.at).cloned() {
            Some(Token::Open) => {
                self.at += 1;
                let inner = self.or()?;
                if !self.next_is(&Token::Close) {
                    return Err("syntax error in tsquery: missing )".into());
                }
                Ok(inner)
            }
            Some(Token::Word(word, prefix)) => {
                self.at += 1;
                // A word the parser splits (`foo-bar`) is a phrase of its parts.
                phrase(words(&word), prefix).ok_or_else(|| format!("syntax error in tsquery: {word:?} has no word"))
            }
            Some(other) => Err(format!("syntax error in tsquery: unexpected {other:?}")),
            None => Err("syntax error in tsquery: an operand is missing at the end".into()),
        }
    }
}

fn flatten(mut parts: Vec<Search>, wrap: fn(Vec<Search>) -> Search) -> Search {
    if parts.len() == 1 { parts.remove(0) } else { wrap(parts) }
}

/// The words of an operand of `<->`: only words and phrases can be adjacent.
fn phrase_words(part: Search) -> Result<Vec<String>, String> {
    match part {
        Search::Term { word, .. } => Ok(vec![word]),
        Search::Phrase(words) => Ok(words),
        _ => Err("<-> between groups is not supported here: use it between words".into()),
    }
}

/// The query text of a full-text filter in one engine's syntax (`syntax`: [`fts5`] or
/// [`mysql_boolean`]), ready to bind; `None` for a query without a word, which matches nothing
/// (as PostgreSQL's empty tsquery).
///
/// Errors: [`RenderError::InvalidSearch`] for a malformed query; [`RenderError::Unsupported`],
/// naming `engine`, for one the syntax cannot express.
pub(crate) fn engine_query(
    engine: rowbase_catalog::Engine,
    kind: FtsKind,
    query: &str,
    syntax: fn(&Search) -> Result<String, String>,
) -> Result<Option<String>, RenderError> {
    let Some(search) = parse(kind, query).map_err(RenderError::InvalidSearch)? else { return Ok(None) };
    syntax(&search).map(Some).map_err(|feature| RenderError::Unsupported { engine, feature })
}

const ONLY_NEGATED: &str = "a search whose parts are all negated";

/// The FTS5 query syntax (sqlite.org/fts5.html#full_text_query_syntax): words as quoted
/// strings, `AND`, `OR`, binary `NOT`, `*` for a prefix.
///
/// Errors: a negation with nothing positive beside it (FTS5's NOT is binary).
pub fn fts5(search: &Search) -> Result<String, String> {
    Ok(match search {
        Search::Term { word, prefix } => format!("\"{}\"{}", word.replace('"', "\"\""), if *prefix { "*" } else { "" }),
        Search::Phrase(words) => format!("\"{}\"", words.join(" ").replace('"', "\"\"")),
        Search::And(parts) => {
            let (negated, positive): (Vec<&Search>, Vec<&Search>) =
                parts.iter().partition(|p| matches!(p, Search::Not(_)));
            if positive.is_empty() {
                return Err(ONLY_NEGATED.into());
            }
            let mut out =
                format!("({})", positive.iter().map(|p| fts5(p)).collect::<Result<Vec<_>, _>>()?.join(" AND "));
            if negated.is_empty() {
                return Ok(out);
            }
            for n in negated {
                if let Search::Not(inner) = n {
                    out.push_str(&format!(" NOT ({})", fts5(inner)?));
                }
            }
            format!("({out})")
        }
        Search::Or(parts) => format!("({})", parts.iter().map(fts5).collect::<Result<Vec<_>, _>>()?.join(" OR ")),
        Search::Not(_) => return Err(ONLY_NEGATED.into()),
    })
}

/// MySQL's boolean-mode syntax (MySQL manual, "Boolean Full-Text Searches"): `+` required,
/// `-` excluded, parentheses for groups, `"phrase"`, `word*` for a prefix.
///
/// Errors: a negation with nothing positive beside it (it would match nothing on MySQL).
pub fn mysql_boolean(search: &Search) -> Result<String, String> {
    match search {
        Search::Not(_) => Err(ONLY_NEGATED.into()),
        Search::Term { .. } | Search::Phrase(_) => Ok(format!("+{}", mysql_part(search)?)),
        _ => mysql_part(search),
    }
}

fn mysql_part(search: &Search) -> Result<String, String> {
    let group = |part: &Search| -> Result<String, String> {
        Ok(match part {
            Search::And(_) | Search::Or(_) => format!("({})", mysql_part(part)?),
            _ => mysql_part(part)?,
        })
    };
    Ok(match search {
        Search::Term { word, prefix } => format!("{word}{}", if *prefix { "*" } else { "" }),
        Search::Phrase(words) => format!("\"{}\"", words.join(" ")),
        Search::And(parts) => {
            let mut out = Vec::new();
            let mut positive = false;
            for part in parts {
                match part {
                    Search::Not(inner) => out.push(format!("-{}", group(inner)?)),
                    other => {
                        positive = true;
                        out.push(format!("+{}", group(other)?));
                    }
                }
            }
            if !positive {
                return Err(ONLY_NEGATED.into());
            }
            out.join(" ")
        }
        Search::Or(parts) => parts.iter().map(group).collect::<Result<Vec<_>, _>>()?.join(" "),
        Search::Not(_) => return Err(ONLY_NEGATED.into()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn both(kind: FtsKind, text: &str) -> (String, String) {
        let tree = parse(kind, text).unwrap().unwrap();
        (fts5(&tree).unwrap(), mysql_boolean(&tree).unwrap())
    }

    #[test]
    fn plain_and_phrase_queries() {
        assert_eq!(both(FtsKind::Plain, "Rust, async!"), ("(\"rust\" AND \"async\")".into(), "+rust +async".into()));
        assert_eq!(both(FtsKind::Phrase, "async rust"), ("\"async rust\"".into(), "+\"async rust\"".into()));
        assert_eq!(both(FtsKind::Plain, "tokio"), ("\"tokio\"".into(), "+tokio".into()));
        assert_eq!(parse(FtsKind::Plain, " ,;").unwrap(), None);
    }

    #[test]
    fn websearch_queries() {
        assert_eq!(
            both(FtsKind::Websearch, "\"async rust\" -java"),
            ("((\"async rust\") NOT (\"java\"))".into(), "+\"async rust\" -java".into())
        );
        assert_eq!(
            both(FtsKind::Websearch, "rust or go tokio"),
            ("(\"rust\" OR (\"go\" AND \"tokio\"))".into(), "rust (+go +tokio)".into())
        );
        // Quotes, dashes and operators of the engines never pass through.
        assert_eq!(both(FtsKind::Websearch, "a\"b*c\" NEAR(x)").1, "+a +\"b c\" +near +x");
        assert_eq!(both(FtsKind::Websearch, "well-known").1, "+well +known");
    }

    #[test]
    fn tsquery_queries() {
        assert_eq!(
            both(FtsKind::Fts, "rust & (async | tokio) & !java"),
            ("((\"rust\" AND (\"async\" OR \"tokio\")) NOT (\"java\"))".into(), "+rust +(async tokio) -java".into())
        );
        assert_eq!(both(FtsKind::Fts, "run:*"), ("\"run\"*".into(), "+run*".into()));
        assert_eq!(both(FtsKind::Fts, "async <-> rust"), ("\"async rust\"".into(), "+\"async rust\"".into()));
        assert_eq!(both(FtsKind::Fts, "'tokio'"), ("\"tokio\"".into(), "+tokio".into()));
    }

    #[test]
    fn malformed_and_unsupported_queries_are_errors() {
        assert!(parse(FtsKind::Fts, "rust &").is_err());
        assert!(parse(FtsKind::Fts, "(rust").is_err());
        assert!(parse(FtsKind::Fts, "rust async").is_err(), "two words need an operator, as in PostgreSQL");
        assert!(parse(FtsKind::Fts, "(a | b) <-> c").is_err());
        let only_not = parse(FtsKind::Fts, "!java").unwrap().unwrap();
        assert!(fts5(&only_not).is_err());
        assert!(mysql_boolean(&only_not).is_err());
    }
}
