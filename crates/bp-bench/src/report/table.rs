//! Markdown tables with columns padded to line up in the source text.

/// A Markdown table under construction.
#[derive(Clone, Debug)]
pub struct Table {
    header: Vec<String>,
    /// Whether each column is right-aligned (numbers) or left-aligned.
    right: Vec<bool>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// Starts a table. A header starting with `>` is a right-aligned
    /// column; the `>` is not shown.
    pub fn new(header: &[&str]) -> Self {
        Self {
            header: header
                .iter()
                .map(|title| title.trim_start_matches('>').to_owned())
                .collect(),
            right: header.iter().map(|title| title.starts_with('>')).collect(),
            rows: Vec::new(),
        }
    }

    /// Appends a row; missing cells are left empty and extra cells dropped.
    pub fn row(&mut self, cells: Vec<String>) {
        let mut cells = cells;
        cells.resize(self.header.len(), String::new());
        self.rows.push(cells);
    }

    /// Returns whether no row was added.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Renders the table, ending with a newline.
    pub fn render(&self) -> String {
        let widths: Vec<usize> = (0..self.header.len())
            .map(|column| {
                self.rows
                    .iter()
                    .map(|row| row[column].chars().count())
                    .chain([self.header[column].chars().count(), 3])
                    .max()
                    .unwrap_or(3)
            })
            .collect();

        let line = |cells: &[String]| {
            let padded: Vec<String> = cells
                .iter()
                .zip(&widths)
                .zip(&self.right)
                .map(|((cell, &width), &right)| {
                    if right {
                        format!("{cell:>width$}")
                    } else {
                        format!("{cell:<width$}")
                    }
                })
                .collect();
            format!("| {} |\n", padded.join(" | "))
        };
        let rule: Vec<String> = widths
            .iter()
            .zip(&self.right)
            .map(|(&width, &right)| {
                if right {
                    format!("{}:", "-".repeat(width - 1))
                } else {
                    "-".repeat(width)
                }
            })
            .collect();

        let mut text = line(&self.header);
        text += &format!("| {} |\n", rule.join(" | "));
        for row in &self.rows {
            text += &line(row);
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_pads_and_aligns_columns() {
        let mut table = Table::new(&["peer", ">ns"]);
        table.row(vec!["bp".to_owned(), "12.5".to_owned()]);
        table.row(vec!["crossbeam".to_owned(), "7".to_owned()]);

        let expected = "\
| peer      |   ns |
| --------- | ---: |
| bp        | 12.5 |
| crossbeam |    7 |
";
        assert_eq!(table.render(), expected);
    }

    #[test]
    fn row_fills_missing_cells() {
        let mut table = Table::new(&["a", "b"]);
        table.row(vec!["x".to_owned()]);

        assert!(table.render().ends_with("| x   |     |\n"));
    }
}
