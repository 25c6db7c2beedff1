//! The result of a run: one row per figure (measured, target, PASS/MISS, PostgreSQL beside it
//! and the ratio), printed as a table and written as `BENCHMARKS.md`.

use std::fmt::Write as _;

/// Whether a figure met its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    Miss,
    /// A figure without a target of its own (context for another, e.g. PostgreSQL's read).
    Info,
}

impl Verdict {
    pub fn of(met: bool) -> Self {
        if met { Self::Pass } else { Self::Miss }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Pass => "PASS",
            Self::Miss => "MISS",
            Self::Info => "-",
        }
    }
}

/// One row of the table.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    /// The number for it, with a letter for a part (`3`, `5a`).
    pub number: String,
    pub name: String,
    pub measured: String,
    pub target: String,
    pub verdict: Verdict,
    /// PostgreSQL's figure in the same run, where the issue asks for one.
    pub postgres: Option<String>,
    /// The ledger's figure over PostgreSQL's (higher is better for the ledger).
    pub ratio: Option<f64>,
}

impl Figure {
    pub fn new(number: &str, name: &str, measured: String, target: &str, verdict: Verdict) -> Self {
        Self {
            number: number.to_owned(),
            name: name.to_owned(),
            measured,
            target: target.to_owned(),
            verdict,
            postgres: None,
            ratio: None,
        }
    }

    pub fn beside_postgres(mut self, postgres: String, ratio: f64) -> Self {
        self.postgres = Some(postgres);
        self.ratio = Some(ratio);
        self
    }
}

/// Everything `BENCHMARKS.md` says about one run.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub date: String,
    pub commit: String,
    pub profile: String,
    /// `name: value` lines about the machine.
    pub machine: Vec<(String, String)>,
    /// What was measured at which scale, and anything not measured at the scale.
    pub scale: Vec<String>,
    pub figures: Vec<Figure>,
    /// Further sections: (title, markdown body).
    pub details: Vec<(String, String)>,
}

const COLUMNS: [&str; 7] = [
    "#",
    "figure",
    "measured",
    "target",
    "result",
    "PostgreSQL",
    "ratio",
];

fn cells(figure: &Figure) -> [String; 7] {
    [
        figure.number.clone(),
        figure.name.clone(),
        figure.measured.clone(),
        figure.target.clone(),
        figure.verdict.label().to_owned(),
        figure.postgres.clone().unwrap_or_else(|| "-".to_owned()),
        figure
            .ratio
            .map_or_else(|| "-".to_owned(), |ratio| format!("{ratio:.2}×")),
    ]
}

/// The table for a terminal: columns padded to their widest cell.
pub fn table(figures: &[Figure]) -> String {
    let rows: Vec<[String; 7]> = figures.iter().map(cells).collect();
    let mut widths = COLUMNS.map(|title| title.chars().count());
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut text = String::new();
    let mut line = |cells: &[String]| {
        let padded: Vec<String> = cells
            .iter()
            .zip(widths)
            .map(|(cell, width)| format!("{cell}{}", " ".repeat(width - cell.chars().count())))
            .collect();
        text.push_str(padded.join("  ").trim_end());
        text.push('\n');
    };
    line(&COLUMNS.map(str::to_owned));
    line(&widths.map(|width| "-".repeat(width)));
    for row in &rows {
        line(row);
    }
    text
}

/// `BENCHMARKS.md`.
pub fn markdown(report: &Report) -> String {
    let mut text = String::new();
    let _ = writeln!(text, "# Benchmarks\n");
    let _ = writeln!(
        text,
        "Written by `make bench` (`ledger-bench run --profile {}`); do not edit by hand: the \
         analysis of misses comes from `crates/ledger-bench/MISSES.md`.\n",
        report.profile
    );
    let _ = writeln!(text, "- date: {}", report.date);
    let _ = writeln!(text, "- commit: {}", report.commit);
    for (name, value) in &report.machine {
        let _ = writeln!(text, "- {name}: {value}");
    }
    let _ = writeln!(text, "\n## Scale\n");
    for line in &report.scale {
        let _ = writeln!(text, "- {line}");
    }
    let _ = writeln!(text, "\n## Figures\n");
    let _ = writeln!(text, "| {} |", COLUMNS.join(" | "));
    let _ = writeln!(text, "|{}", "---|".repeat(COLUMNS.len()));
    for figure in &report.figures {
        let _ = writeln!(text, "| {} |", cells(figure).join(" | "));
    }
    let misses: Vec<&Figure> = report
        .figures
        .iter()
        .filter(|figure| figure.verdict == Verdict::Miss)
        .collect();
    let _ = writeln!(
        text,
        "\n{} of {} targets met.",
        report
            .figures
            .iter()
            .filter(|figure| figure.verdict == Verdict::Pass)
            .count(),
        report
            .figures
            .iter()
            .filter(|figure| figure.verdict != Verdict::Info)
            .count()
    );
    if !misses.is_empty() {
        let names: Vec<String> = misses
            .iter()
            .map(|figure| format!("{} ({})", figure.number, figure.name))
            .collect();
        let _ = writeln!(text, "Missed: {}.", names.join(", "));
    }
    for (title, body) in &report.details {
        let _ = writeln!(text, "\n## {title}\n\n{}", body.trim_end());
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<Figure> {
        vec![
            Figure::new(
                "2",
                "bulk import",
                "254 k/s".into(),
                "≥ 500 k/s",
                Verdict::Miss,
            )
            .beside_postgres("61 k/s".into(), 4.16),
            Figure::new(
                "5a",
                "timeline p99",
                "212 µs".into(),
                "≤ 1 ms",
                Verdict::Pass,
            ),
        ]
    }

    #[test]
    fn the_table_pads_every_column_and_shows_the_ratio() {
        let table = table(&sample());
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 4);
        assert!(lines[0].starts_with("#   figure"), "{table}");
        assert!(
            lines[2].contains("MISS") && lines[2].contains("4.16×"),
            "{table}"
        );
        assert!(
            lines[3].contains("PASS") && lines[3].ends_with('-'),
            "{table}"
        );
        // Every result sits in the same column (counted in characters: `≥` and `µ` are
        // several bytes).
        let column = |line: &str, word: &str| line[..line.find(word).unwrap()].chars().count();
        assert_eq!(column(lines[2], "MISS"), column(lines[3], "PASS"));
    }

    #[test]
    fn the_markdown_names_the_commit_the_machine_and_each_miss() {
        let report = Report {
            date: "2026-11-26".into(),
            commit: "abc1234".into(),
            profile: "full".into(),
            machine: vec![("cores".into(), "2".into())],
            scale: vec!["1,000,000 events".into()],
            figures: sample(),
            details: vec![("Durability".into(), "ok".into())],
        };
        let text = markdown(&report);
        assert!(text.contains("- commit: abc1234"), "{text}");
        assert!(text.contains("- cores: 2"), "{text}");
        assert!(
            text.contains("| 2 | bulk import | 254 k/s | ≥ 500 k/s | MISS | 61 k/s | 4.16× |"),
            "{text}"
        );
        assert!(text.contains("1 of 2 targets met."), "{text}");
        assert!(text.contains("Missed: 2 (bulk import)."), "{text}");
        assert!(text.contains("## Durability\n\nok"), "{text}");
    }
}
