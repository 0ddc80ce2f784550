//! The figures of a run: printed as they come, then as one table (and as markdown).

/// A target a figure is compared against.
#[derive(Clone, Debug)]
pub struct Target {
    pub text: String,
    pub met: bool,
}

impl Target {
    /// `value ≤ limit`.
    pub fn at_most(value: f64, limit: f64, text: impl Into<String>) -> Target {
        Target {
            text: text.into(),
            met: value <= limit,
        }
    }

    /// `value ≥ limit`.
    pub fn at_least(value: f64, limit: f64, text: impl Into<String>) -> Target {
        Target {
            text: text.into(),
            met: value >= limit,
        }
    }

    pub fn verdict(&self) -> &'static str {
        if self.met { "PASS" } else { "MISS" }
    }
}

#[derive(Clone, Debug)]
pub struct Row {
    pub group: String,
    pub figure: String,
    pub value: String,
    pub target: Option<Target>,
}

/// All rows of a run, in order.
#[derive(Debug, Default)]
pub struct Report {
    rows: Vec<Row>,
    group: String,
}

impl Report {
    /// Start a group of figures (a benchmark).
    pub fn group(&mut self, name: &str) {
        println!();
        println!("== {name}");
        self.group = name.to_string();
    }

    /// A figure without a target.
    pub fn info(&mut self, figure: &str, value: impl Into<String>) {
        self.add(figure, value.into(), None);
    }

    /// A figure compared against a target.
    pub fn check(&mut self, figure: &str, value: impl Into<String>, target: Target) {
        self.add(figure, value.into(), Some(target));
    }

    fn add(&mut self, figure: &str, value: String, target: Option<Target>) {
        match &target {
            Some(t) => println!(
                "  {figure:<48} {value:>16}   target {}: {}",
                t.text,
                t.verdict()
            ),
            None => println!("  {figure:<48} {value:>16}"),
        }
        self.rows.push(Row {
            group: self.group.clone(),
            figure: figure.to_string(),
            value,
            target,
        });
    }

    /// A free-form line under the current group (printed only).
    pub fn note(&self, text: &str) {
        println!("  {text}");
    }

    pub fn targets(&self) -> impl Iterator<Item = &Row> {
        self.rows.iter().filter(|r| r.target.is_some())
    }

    /// The targets, one line each.
    pub fn print_summary(&self) {
        println!();
        println!("== targets");
        for row in self.targets() {
            let t = row.target.as_ref().expect("filtered");
            println!(
                "  {:<4} {:<62} {:>18}   target {}",
                t.verdict(),
                format!("{}: {}", short_group(&row.group), row.figure),
                row.value,
                t.text
            );
        }
    }

    /// The whole run as a markdown table.
    pub fn markdown(&self) -> String {
        let mut out = String::new();
        out.push_str("| benchmark | figure | value | target | result |\n");
        out.push_str("|---|---|---:|---|:---:|\n");
        let mut last_group = "";
        for row in &self.rows {
            let group = if row.group == last_group {
                ""
            } else {
                row.group.as_str()
            };
            last_group = &row.group;
            let (target, result) = match &row.target {
                Some(t) => (t.text.as_str(), format!("**{}**", t.verdict())),
                None => ("", String::new()),
            };
            out.push_str(&format!(
                "| {} | {} | {} | {} | {} |\n",
                escape(group),
                escape(&row.figure),
                escape(&row.value),
                escape(target),
                result
            ));
        }
        out
    }
}

/// `1b` of `1b. bare component call ...`.
fn short_group(group: &str) -> &str {
    let first = group.split_whitespace().next().unwrap_or(group);
    first.trim_end_matches('.')
}

fn escape(text: &str) -> String {
    text.replace('|', "\\|")
}
