//! Where each value of a JSON text starts, by JSON pointer, so that problems found
//! after parsing (an unknown field in an expression) can name a line and column.
//! serde_json does not keep positions, hence this small scanner. It assumes the text
//! already parsed as JSON and never fails: on odd input it just knows fewer positions.

use std::collections::HashMap;

#[derive(Debug, Default)]
pub(crate) struct Positions {
    starts: HashMap<String, (usize, usize)>,
}

impl Positions {
    /// Position of the value at `pointer`, or of its nearest parent that has one.
    pub(crate) fn at(&self, pointer: &str) -> (usize, usize) {
        let mut p = pointer;
        loop {
            if let Some(pos) = self.starts.get(p) {
                return *pos;
            }
            match p.rfind('/') {
                Some(i) => p = &p[..i],
                None => return (1, 1),
            }
        }
    }
}

struct Scanner<'a> {
    chars: std::iter::Peekable<std::str::Chars<'a>>,
    line: usize,
    column: usize,
    out: HashMap<String, (usize, usize)>,
}

pub(crate) fn index(text: &str) -> Positions {
    let mut s = Scanner {
        chars: text.chars().peekable(),
        line: 1,
        column: 1,
        out: HashMap::new(),
    };
    s.value(String::new(), 0);
    Positions { starts: s.out }
}

impl Scanner<'_> {
    fn bump(&mut self) -> Option<char> {
        let c = self.chars.next()?;
        if c == '\n' {
            self.line += 1;
            self.column = 1;
        } else {
            self.column += 1;
        }
        Some(c)
    }

    fn skip_ws(&mut self) {
        while matches!(self.chars.peek(), Some(c) if c.is_whitespace()) {
            self.bump();
        }
    }

    fn string(&mut self) -> String {
        let mut s = String::new();
        self.bump(); // opening quote
        while let Some(c) = self.bump() {
            match c {
                '"' => break,
                '\\' => {
                    if let Some(e) = self.bump() {
                        s.push(match e {
                            'n' => '\n',
                            't' => '\t',
                            other => other,
                        });
                    }
                }
                c => s.push(c),
            }
        }
        s
    }

    fn value(&mut self, pointer: String, depth: usize) {
        self.skip_ws();
        self.out.insert(pointer.clone(), (self.line, self.column));
        if depth > 256 {
            return;
        }
        match self.chars.peek() {
            Some('{') => {
                self.bump();
                loop {
                    self.skip_ws();
                    match self.chars.peek() {
                        Some('"') => {
                            let key = self.string();
                            self.skip_ws();
                            if self.chars.peek() == Some(&':') {
                                self.bump();
                            }
                            let escaped = key.replace('~', "~0").replace('/', "~1");
                            self.value(format!("{pointer}/{escaped}"), depth + 1);
                            self.skip_ws();
                            if self.chars.peek() == Some(&',') {
                                self.bump();
                            }
                        }
                        Some('}') => {
                            self.bump();
                            return;
                        }
                        _ => return,
                    }
                }
            }
            Some('[') => {
                self.bump();
                let mut i = 0;
                loop {
                    self.skip_ws();
                    match self.chars.peek() {
                        Some(']') => {
                            self.bump();
                            return;
                        }
                        None => return,
                        _ => {
                            self.value(format!("{pointer}/{i}"), depth + 1);
                            i += 1;
                            self.skip_ws();
                            if self.chars.peek() == Some(&',') {
                                self.bump();
                            }
                        }
                    }
                }
            }
            Some('"') => {
                self.string();
            }
            _ => {
                while matches!(self.chars.peek(), Some(c) if !matches!(c, ',' | '}' | ']') && !c.is_whitespace())
                {
                    self.bump();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_nested_values() {
        let text = "{\n  \"a\": [1, {\"b\": \"x\"}],\n  \"c/d\": true\n}";
        let p = index(text);
        assert_eq!(p.at("/a/1/b"), (2, 18));
        assert_eq!(p.at("/a/0"), (2, 9));
        assert_eq!(p.at("/c~1d"), (3, 10));
        assert_eq!(p.at("/a/1/missing"), (2, 12));
    }
}
