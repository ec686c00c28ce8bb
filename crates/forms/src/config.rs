//! Configuration tables (TB incidence by country, destination rules, thresholds):
//! versioned data that expressions read through `lookup()`, so figures that differ by
//! programme or Member State never live in code.

use crate::diagnostic::{Diagnostic, Diagnostics, SourceFile};
use crate::value::{Type, Value};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// One loaded table. Rows are keyed by text (numbers are keyed by their decimal form).
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigTable {
    name: String,
    version: String,
    status: String,
    columns: Vec<(String, ColumnType)>,
    rows: HashMap<String, Vec<Value>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ColumnType {
    Text,
    Integer,
    Decimal,
    Boolean,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTable {
    table: String,
    version: String,
    status: String,
    source: String,
    #[serde(default)]
    note: Option<String>,
    key: String,
    columns: BTreeMap<String, ColumnType>,
    rows: BTreeMap<String, BTreeMap<String, serde_json::Value>>,
}

impl ConfigTable {
    /// Parses a table file; every problem is reported with its position.
    pub fn parse(file: &SourceFile) -> Result<ConfigTable, Diagnostics> {
        let raw: RawTable =
            serde_json::from_str(&file.text).map_err(|e| Diagnostics::from_json(file, &e))?;
        let _ = (&raw.source, &raw.note, &raw.key);
        let positions = crate::json_pos::index(&file.text);
        let mut problems = Vec::new();
        let columns: Vec<(String, ColumnType)> = raw.columns.into_iter().collect();
        let mut rows = HashMap::new();
        for (key, cells) in raw.rows {
            let mut row = vec![Value::Empty; columns.len()];
            for (col_name, cell) in cells {
                let here = positions.at(&format!("/rows/{}/{}", escape(&key), escape(&col_name)));
                let Some(ci) = columns.iter().position(|(n, _)| *n == col_name) else {
                    problems.push(Diagnostic::at(file, here, format!("row `{key}` has a value for `{col_name}`, which is not a declared column")));
                    continue;
                };
                match convert(&cell, columns[ci].1) {
                    Some(v) => row[ci] = v,
                    None => problems.push(Diagnostic::at(
                        file,
                        here,
                        format!(
                            "`{key}`.`{col_name}` must be {:?} or null, not {cell}",
                            columns[ci].1
                        ),
                    )),
                }
            }
            rows.insert(key, row);
        }
        if problems.is_empty() {
            Ok(ConfigTable {
                name: raw.table,
                version: raw.version,
                status: raw.status,
                columns,
                rows,
            })
        } else {
            Err(Diagnostics(problems))
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn version(&self) -> &str {
        &self.version
    }

    /// `placeholder` until the programme confirms the figures.
    pub fn status(&self) -> &str {
        &self.status
    }

    pub(crate) fn column_index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|(n, _)| n == name)
    }

    pub(crate) fn column_names(&self) -> Vec<&str> {
        self.columns.iter().map(|(n, _)| n.as_str()).collect()
    }

    pub(crate) fn column_type(&self, column: usize) -> Type {
        match self.columns[column].1 {
            ColumnType::Text => Type::Text,
            ColumnType::Integer | ColumnType::Decimal => Type::Number,
            ColumnType::Boolean => Type::Bool,
        }
    }

    pub(crate) fn get(&self, key: &str, column: usize) -> Value {
        self.rows
            .get(key)
            .and_then(|row| row.get(column))
            .cloned()
            .unwrap_or(Value::Empty)
    }
}

fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

fn convert(cell: &serde_json::Value, ty: ColumnType) -> Option<Value> {
    use serde_json::Value as J;
    Some(match (cell, ty) {
        (J::Null, _) => Value::Empty,
        (J::String(s), ColumnType::Text) => Value::Text(s.clone()),
        (J::Number(n), ColumnType::Integer) if n.is_i64() || n.is_u64() => {
            Value::Number(n.as_f64()?)
        }
        (J::Number(n), ColumnType::Decimal) => Value::Number(n.as_f64()?),
        (J::Bool(b), ColumnType::Boolean) => Value::Bool(*b),
        _ => return None,
    })
}

/// The set of tables a form may read.
#[derive(Debug, Clone, Default)]
pub struct ConfigTables {
    pub(crate) tables: HashMap<String, Arc<ConfigTable>>,
}

impl ConfigTables {
    /// Loads every table; a table name given twice is an error.
    pub fn parse(files: &[SourceFile]) -> Result<ConfigTables, Diagnostics> {
        let mut tables = HashMap::new();
        let mut problems = Vec::new();
        for file in files {
            match ConfigTable::parse(file) {
                Ok(t) => {
                    if tables.contains_key(&t.name) {
                        problems.push(Diagnostic::at(
                            file,
                            (1, 1),
                            format!("table `{}` is defined twice", t.name),
                        ));
                    } else {
                        tables.insert(t.name.clone(), Arc::new(t));
                    }
                }
                Err(d) => problems.extend(d.0),
            }
        }
        if problems.is_empty() {
            Ok(ConfigTables { tables })
        } else {
            Err(Diagnostics(problems))
        }
    }

    pub fn get(&self, name: &str) -> Option<&ConfigTable> {
        self.tables.get(name).map(|t| t.as_ref())
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.tables.keys().map(String::as_str)
    }
}
