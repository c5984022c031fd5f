//! Tables in the rounded box style natscli prints (go-pretty's `StyleRounded`):
//! an optional centred title, a header row, body rows and an optional footer.
//! `NATS_TABLE_FORMAT=csv` prints comma-separated values instead, as natscli does.

use std::fmt::Write as _;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

#[derive(Debug, Default)]
pub struct Table {
    title: String,
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
    footer: Option<Vec<String>>,
    align: Vec<Align>,
}

impl Table {
    pub fn new(title: impl Into<String>) -> Self {
        Table {
            title: title.into(),
            ..Table::default()
        }
    }

    pub fn headers<S: ToString>(&mut self, headers: impl IntoIterator<Item = S>) -> &mut Self {
        self.headers = headers.into_iter().map(|h| h.to_string()).collect();
        self
    }

    /// Column alignments, by column index; columns not named are left aligned.
    pub fn align(&mut self, align: &[Align]) -> &mut Self {
        self.align = align.to_vec();
        self
    }

    pub fn row<S: ToString>(&mut self, cells: impl IntoIterator<Item = S>) -> &mut Self {
        self.rows
            .push(cells.into_iter().map(|c| c.to_string()).collect());
        self
    }

    pub fn footer<S: ToString>(&mut self, cells: impl IntoIterator<Item = S>) -> &mut Self {
        self.footer = Some(cells.into_iter().map(|c| c.to_string()).collect());
        self
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Renders in the style `NATS_TABLE_FORMAT` asks for (rounded by default).
    pub fn render(&self) -> String {
        match std::env::var("NATS_TABLE_FORMAT")
            .unwrap_or_default()
            .to_ascii_lowercase()
            .as_str()
        {
            "csv" => self.render_csv(),
            _ => self.render_boxed(),
        }
    }

    pub fn render_csv(&self) -> String {
        let mut out = String::new();
        let quote = |cell: &str| {
            if cell.contains([',', '"', '\n']) {
                format!("\"{}\"", cell.replace('"', "\"\""))
            } else {
                cell.to_string()
            }
        };
        for line in std::iter::once(&self.headers)
            .chain(self.rows.iter())
            .chain(self.footer.iter())
        {
            let cells: Vec<String> = line.iter().map(|c| quote(c)).collect();
            let _ = writeln!(out, "{}", cells.join(","));
        }
        out
    }

    fn columns(&self) -> usize {
        std::iter::once(&self.headers)
            .chain(self.rows.iter())
            .chain(self.footer.iter())
            .map(Vec::len)
            .max()
            .unwrap_or(0)
    }

    pub fn render_boxed(&self) -> String {
        let columns = self.columns().max(1);
        let mut widths = vec![0usize; columns];
        for line in std::iter::once(&self.headers)
            .chain(self.rows.iter())
            .chain(self.footer.iter())
        {
            for (i, cell) in line.iter().enumerate() {
                widths[i] = widths[i].max(display_width(cell));
            }
        }
        // Widen the last column when the title needs more room.
        let inner: usize = widths.iter().map(|w| w + 2).sum::<usize>() + columns - 1;
        let title_width = display_width(&self.title) + 2;
        if !self.title.is_empty() && title_width > inner {
            widths[columns - 1] += title_width - inner;
        }
        let inner: usize = widths.iter().map(|w| w + 2).sum::<usize>() + columns - 1;

        let rule = |left: &str, middle: &str, right: &str| {
            let parts: Vec<String> = widths.iter().map(|w| "─".repeat(w + 2)).collect();
            format!("{left}{}{right}\n", parts.join(middle))
        };
        let line = |cells: &[String]| {
            let mut out = String::from("│");
            for (i, width) in widths.iter().enumerate() {
                let cell = cells.get(i).map(String::as_str).unwrap_or("");
                let pad = width - display_width(cell);
                let align = self.align.get(i).copied().unwrap_or(Align::Left);
                match align {
                    Align::Left => {
                        let _ = write!(out, " {cell}{} │", " ".repeat(pad));
                    }
                    Align::Right => {
                        let _ = write!(out, " {}{cell} │", " ".repeat(pad));
                    }
                }
            }
            out.push('\n');
            out
        };

        let mut out = String::new();
        if self.title.is_empty() {
            out.push_str(&rule("╭", "┬", "╮"));
        } else {
            out.push_str(&format!("╭{}╮\n", "─".repeat(inner)));
            let space = inner - display_width(&self.title);
            let left = space / 2;
            let _ = writeln!(
                out,
                "│{}{}{}│",
                " ".repeat(left),
                self.title,
                " ".repeat(space - left)
            );
            out.push_str(&rule("├", "┬", "┤"));
        }
        if !self.headers.is_empty() {
            out.push_str(&line(&self.headers));
            out.push_str(&rule("├", "┼", "┤"));
        }
        for row in &self.rows {
            out.push_str(&line(row));
        }
        if let Some(footer) = &self.footer {
            out.push_str(&rule("├", "┼", "┤"));
            out.push_str(&line(footer));
        }
        out.push_str(&rule("╰", "┴", "╯"));
        // go-pretty suppresses trailing spaces; our lines end in a border.
        out
    }
}

fn display_width(text: &str) -> usize {
    text.chars().count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounded_table_with_title_header_and_footer() {
        let mut table = Table::new("Servers");
        table
            .headers(["Name", "Conns"])
            .align(&[Align::Left, Align::Right])
            .row(["n1", "5"])
            .row(["server-two", "12"])
            .footer(["", "17"]);
        let expected = "\
╭────────────────────╮
│      Servers       │
├────────────┬───────┤
│ Name       │ Conns │
├────────────┼───────┤
│ n1         │     5 │
│ server-two │    12 │
├────────────┼───────┤
│            │    17 │
╰────────────┴───────╯
";
        assert_eq!(table.render_boxed(), expected);
    }

    #[test]
    fn csv_quotes_cells_with_commas() {
        let mut table = Table::new("");
        table.headers(["a", "b"]).row(["1,000", "x"]);
        assert_eq!(table.render_csv(), "a,b\n\"1,000\",x\n");
    }
}
