//! A character cursor shared by the grammar rules: names, quoted names, JSON arrows, and
//! error positions counted in characters (what a person reading the URL counts).

use crate::ast::{Field, JsonKey, JsonStep};
use crate::error::ParseError;

/// Characters that end an unquoted name anywhere in the grammar.
const RESERVED: &[char] = &['.', ',', ':', '(', ')', '!', '"'];

/// [`RESERVED`] as bytes.
const RESERVED_BYTES: &[u8] = b".,:()!\"";

/// Reads one parameter value left to right.
pub(crate) struct Cursor<'a> {
    src: &'a str,
    pos: usize,
    /// What is being parsed, for error messages: `select parameter (...)`, `filter (...)`.
    what: What<'a>,
}

/// What a cursor parses, written out only when an error names it.
enum What<'a> {
    /// Written as is.
    Text(String),
    /// `label (value)`.
    Labeled(&'static str, &'a str),
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(src: &'a str, what: String) -> Self {
        Cursor { src, pos: 0, what: What::Text(what) }
    }

    /// A cursor over the parameter `src` whose errors name it `label (src)`: the name is written
    /// only for an error, not for every parameter parsed.
    pub(crate) fn labeled(src: &'a str, label: &'static str) -> Self {
        Cursor { src, pos: 0, what: What::Labeled(label, src) }
    }

    fn what(&self) -> std::borrow::Cow<'_, str> {
        match &self.what {
            What::Text(text) => std::borrow::Cow::Borrowed(text),
            What::Labeled(label, value) => std::borrow::Cow::Owned(format!("{label} ({value})")),
        }
    }

    pub(crate) fn rest(&self) -> &'a str {
        &self.src[self.pos..]
    }

    pub(crate) fn at_end(&self) -> bool {
        self.pos >= self.src.len()
    }

    pub(crate) fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    pub(crate) fn starts_with(&self, s: &str) -> bool {
        self.rest().starts_with(s)
    }

    pub(crate) fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    /// Consumes `s` if the input continues with it.
    pub(crate) fn eat(&mut self, s: &str) -> bool {
        if self.starts_with(s) {
            self.pos += s.len();
            true
        } else {
            false
        }
    }

    pub(crate) fn skip_spaces(&mut self) {
        while matches!(self.peek(), Some(c) if c.is_whitespace()) {
            self.bump();
        }
    }

    /// Consumes `s` or fails with "expecting s".
    pub(crate) fn expect(&mut self, s: &str) -> Result<(), ParseError> {
        if self.eat(s) { Ok(()) } else { Err(self.error(&format!("\"{s}\""))) }
    }

    /// The 1-based character column of the cursor.
    pub(crate) fn column(&self) -> usize {
        self.src[..self.pos].chars().count() + 1
    }

    /// A `PGRST100` error at the cursor: `unexpected X expecting <expected>`.
    pub(crate) fn error(&self, expected: &str) -> ParseError {
        let found = match self.peek() {
            Some(c) => format!("\"{c}\""),
            None => "end of input".to_string(),
        };
        ParseError::query(&self.what(), self.column(), format!("unexpected {found} expecting {expected}"))
    }

    /// A `PGRST100` error about this parameter at a given column.
    pub(crate) fn error_at(&self, column: usize, details: String) -> ParseError {
        ParseError::query(&self.what(), column, details)
    }

    /// A name: `"quoted"` (with `\"` and `\\` escapes) or a run of characters that are not
    /// reserved, with surrounding spaces trimmed. `-` ends a name only when it starts `->`.
    pub(crate) fn name(&mut self) -> Result<String, ParseError> {
        self.skip_spaces();
        if self.peek() == Some('"') {
            return self.quoted();
        }
        let start = self.pos;
        // Byte by byte: every reserved character is ASCII, and no byte of a multi-byte UTF-8
        // character is, so the name ends on a character boundary.
        let bytes = self.src.as_bytes();
        let mut end = start;
        while let Some(&b) = bytes.get(end) {
            if RESERVED_BYTES.contains(&b) || (b == b'-' && bytes.get(end + 1) == Some(&b'>')) {
                break;
            }
            end += 1;
        }
        self.pos = end;
        let name = self.src[start..self.pos].trim_end();
        if name.is_empty() {
            return Err(self.error("a name"));
        }
        Ok(name.to_string())
    }

    /// A double-quoted string; the cursor is on the opening quote.
    pub(crate) fn quoted(&mut self) -> Result<String, ParseError> {
        self.expect("\"")?;
        let mut out = String::new();
        loop {
            match self.bump() {
                None => return Err(self.error("closing \"")),
                Some('"') => return Ok(out),
                Some('\\') => match self.bump() {
                    Some(c) => out.push(c),
                    None => return Err(self.error("an escaped character")),
                },
                Some(c) => out.push(c),
            }
        }
    }

    /// A field: a name followed by JSON arrows (`data->a->>b`, `arr->0`).
    pub(crate) fn field(&mut self) -> Result<Field, ParseError> {
        let name = self.name()?;
        let mut json_path = Vec::new();
        while self.starts_with("->") {
            let as_text = self.eat("->>") || {
                self.eat("->");
                false
            };
            let key = self.json_key()?;
            json_path.push(JsonStep { as_text, key });
        }
        Ok(Field { name, json_path })
    }

    fn json_key(&mut self) -> Result<JsonKey, ParseError> {
        if self.peek() == Some('"') {
            return Ok(JsonKey::Member(self.quoted()?));
        }
        let start = self.pos;
        if self.peek() == Some('-') {
            self.bump();
        }
        while matches!(self.peek(), Some(c) if c.is_ascii_digit()) {
            self.bump();
        }
        let digits = &self.src[start..self.pos];
        let ends_key = self.at_end() || self.starts_with("->") || RESERVED.contains(&self.peek().unwrap_or('.'));
        if !digits.is_empty() && digits != "-" && ends_key {
            if let Ok(i) = digits.parse::<i64>() {
                return Ok(JsonKey::Index(i));
            }
        }
        self.pos = start;
        Ok(JsonKey::Member(self.name()?))
    }
}

/// Splits `s` at commas that are outside double quotes, parentheses and braces.
/// Returns the pieces with their byte offsets, or the offset of an unbalanced bracket.
pub(crate) fn split_top_level(s: &str) -> Result<Vec<(usize, &str)>, usize> {
    let mut parts = Vec::new();
    let (mut depth, mut in_quotes, mut escaped, mut start) = (0i32, false, false, 0);
    for (i, c) in s.char_indices() {
        if in_quotes {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_quotes = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_quotes = true,
            '(' | '{' => depth += 1,
            ')' | '}' => {
                depth -= 1;
                if depth < 0 {
                    return Err(i);
                }
            }
            ',' if depth == 0 => {
                parts.push((start, &s[start..i]));
                start = i + 1;
            }
            _ => {}
        }
    }
    if depth != 0 || in_quotes {
        return Err(s.len());
    }
    parts.push((start, &s[start..]));
    Ok(parts)
}
