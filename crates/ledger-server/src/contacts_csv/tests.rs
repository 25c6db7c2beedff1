//! CSV rows as a telephony export writes them: header, quoting, line breaks in a summary, empty
//! optional cells, and each kind of problem named by line and column.

use super::*;
use crate::interchange::Line;

const CUSTOMER: &str = "0190a5e2-8c3b-7d4e-9f00-000000000001";
const STRANGER: &str = "0190a5e2-8c3b-7d4e-9f00-000000000002";

const HEADER: &str = "startedAt,customerId,channel,direction,agent,durationSeconds,topic,summary,outcome,policyNumber";

/// Converts `text`, every customer but [`STRANGER`] known; the output's lines by number.
fn convert_text(text: &str) -> (Converted, Vec<String>) {
    let mut out = Vec::new();
    let converted = convert(text.as_bytes(), &mut out, |stream| {
        !stream.as_str().contains(STRANGER)
    })
    .unwrap();
    let lines = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    (converted, lines)
}

fn contact_of(line: &str) -> (ledger_domain::events::ContactRecorded, String, String) {
    let Ok(Line::Integrator(line)) = parse_line(line) else {
        panic!("not an integrator line: {line}");
    };
    let Event::ContactRecorded(contact) = line.event else {
        panic!("not a contact: {:?}", line.event);
    };
    (
        contact,
        line.new_event.occurred_at.to_string(),
        line.new_event.actor.to_string(),
    )
}

#[test]
fn rows_become_contacts_at_their_own_line_numbers() {
    let text = format!(
        "{HEADER}\n\
         2025-03-07T09:00:00+08:00,{CUSTOMER},PHONE,INBOUND,agent-0042,185,RENEWAL,\"续保咨询,\n客户要求回电\",CALLBACK_SCHEDULED,\n\
         2025-03-07T10:00:00Z,{CUSTOMER},WECHAT,OUTBOUND,agent-0043,60,QUOTE,报价,CONVERTED,PDAA2025000001\n"
    );
    let (converted, lines) = convert_text(&text);
    assert!(converted.problems.is_empty(), "{:?}", converted.problems);
    assert_eq!(converted.converted, 2);
    // Line 1 is the header; the first row starts on line 2 and runs to line 3 (a line break in
    // its quoted summary), so the second row is line 4.
    assert_eq!(lines.len(), 4, "{lines:?}");
    assert!(lines[0].is_empty() && lines[2].is_empty(), "{lines:?}");

    let (first, occurred_at, actor) = contact_of(&lines[1]);
    assert_eq!(first.summary.as_str(), "续保咨询,\n客户要求回电");
    assert_eq!(first.duration_seconds, 185);
    assert_eq!(
        first.policy_number, None,
        "an empty cell leaves the field out"
    );
    // Recorded when the call ended, by the import.
    assert_eq!(occurred_at, "2025-03-07T01:03:05Z");
    assert_eq!(actor, DEFAULT_ACTOR);
    let (second, _, _) = contact_of(&lines[3]);
    assert_eq!(
        second.policy_number.as_ref().map(|policy| policy.as_str()),
        Some("PDAA2025000001")
    );
    assert_ne!(first.contact_id, second.contact_id);

    // The same file converts to the same bytes: the same contact and event ids again.
    let (_, again) = convert_text(&text);
    assert_eq!(again, lines);
}

#[test]
fn envelope_columns_and_a_given_contact_id_are_kept() {
    let contact = "0190a5e2-8c3b-7d4e-9f00-0000000000c1";
    let text = format!(
        "\u{feff}contactId,customerId,channel,direction,agent,startedAt,durationSeconds,topic,summary,outcome,occurredAt,actor\n\
         {contact},{CUSTOMER},WALK_IN,INBOUND,agent-0042,2025-03-07T09:00:00Z,600,CLAIM_REPORT,到厅报案,RESOLVED,2025-03-07T12:00:00Z,hall-system\n\
         ,{CUSTOMER},WALK_IN,INBOUND,agent-0042,2025-03-07T09:00:00Z,600,CLAIM_REPORT,到厅报案,RESOLVED,noon,hall-system\n"
    );
    let (converted, lines) = convert_text(&text);
    // The envelope's cells are checked as the import checks them.
    assert_eq!(converted.problems.len(), 1, "{:?}", converted.problems);
    assert!(
        converted.problems[0].starts_with("line 3: occurredAt: a time is RFC 3339"),
        "{:?}",
        converted.problems
    );
    let (recorded, occurred_at, actor) = contact_of(&lines[1]);
    assert_eq!(recorded.contact_id.to_string(), contact);
    assert_eq!(occurred_at, "2025-03-07T12:00:00Z");
    assert_eq!(actor, "hall-system");
}

#[test]
fn each_bad_row_is_a_problem_named_by_line_and_column_and_the_rest_convert() {
    let text = format!(
        "{HEADER}\n\
         2025-03-07T09:00:00Z,{CUSTOMER},PHONE,INBOUND,agent-0042,three minutes,ENQUIRY,问,RESOLVED,\n\
         2025-03-07T09:00:00Z,{CUSTOMER},PIGEON,INBOUND,agent-0042,60,ENQUIRY,问,RESOLVED,\n\
         2025-03-07T09:00:00Z,{STRANGER},PHONE,INBOUND,agent-0042,60,ENQUIRY,问,RESOLVED,\n\
         2025-03-07T09:00:00Z,{CUSTOMER},PHONE,INBOUND\n\
         2025-03-07T09:00:00Z,{CUSTOMER},PHONE,INBOUND,agent-0042,60,ENQUIRY,,RESOLVED,\n\
         2025-03-07T09:00:00Z,{CUSTOMER},PHONE,INBOUND,agent-0042,60,ENQUIRY,问,RESOLVED,\n"
    );
    let (converted, lines) = convert_text(&text);
    assert_eq!((converted.problems.len(), converted.converted), (5, 1));
    let problems = converted.problems;
    assert_eq!(problems.len(), 5, "{problems:?}");
    assert!(
        problems[0].starts_with("line 2: durationSeconds: a whole number of seconds"),
        "{problems:?}"
    );
    assert!(problems[1].starts_with("line 3: channel: "), "{problems:?}");
    assert!(
        problems[2].starts_with(&format!(
            "line 4: customerId: no customer {STRANGER} in the ledger"
        )),
        "{problems:?}"
    );
    assert!(
        problems[3].starts_with("line 5: (csv): a row has as many cells as the header: 10, not 4"),
        "{problems:?}"
    );
    assert!(problems[4].starts_with("line 6: summary: "), "{problems:?}");
    // A summary of spaces is kept as blank text, for the import's rule on written text to
    // refuse in its own words (`summary: is written out …`), as an NDJSON line's is; left out,
    // it read "is required".
    let spaces = format!(
        "{HEADER}\n2025-03-07T09:00:00Z,{CUSTOMER},PHONE,INBOUND,agent-0042,60,ENQUIRY,\"   \",RESOLVED,\n"
    );
    let (blank, blank_lines) = convert_text(&spaces);
    assert!(blank.problems.is_empty(), "{:?}", blank.problems);
    assert!(
        blank_lines[1].contains(r#""summary":"""#),
        "{blank_lines:?}"
    );
    // The good row is line 7; nothing is written for the bad ones.
    assert_eq!(lines.len(), 7);
    assert!(lines[..6].iter().all(String::is_empty), "{lines:?}");
    contact_of(&lines[6]);
}

#[test]
fn a_cell_that_is_not_utf8_text_is_named_by_line_and_column_and_the_rest_convert() {
    // Given a call centre's export with two cells in GBK (问 is 0xce 0xca there): one row's
    // summary, another's agent.
    let good = format!(
        "2025-03-07T09:00:00Z,{CUSTOMER},PHONE,INBOUND,agent-0042,60,ENQUIRY,问,RESOLVED,\n"
    );
    let gbk = |row: &str, placeholder: &str| {
        let (before, after) = row.split_once(placeholder).unwrap();
        [before.as_bytes(), &[0xce, 0xca], after.as_bytes()].concat()
    };
    let mut text = format!("{HEADER}\n{good}").into_bytes();
    text.extend(gbk(&good, "问"));
    text.extend(gbk(&good.replace("agent-0042", "agent-@"), "@"));
    text.extend(good.as_bytes());
    // When it is converted, then each of those rows is refused naming its line and column, as
    // a cell's other problems are, and the other rows convert.
    let mut out = Vec::new();
    let converted = convert(text.as_slice(), &mut out, |_| true).unwrap();
    let not_utf8 = |line: u32, column: &str| {
        format!(
            "line {line}: {column}: is not UTF-8 text (the file is read as UTF-8; save one \
             written in GBK or another encoding as UTF-8 first)"
        )
    };
    assert_eq!(
        converted.problems,
        [not_utf8(3, "summary"), not_utf8(4, "agent")]
    );
    assert_eq!(converted.converted, 2);
}

#[test]
fn a_header_that_is_not_the_contacts_columns_is_refused_by_name() {
    let refused = |header: &str| {
        let text = format!("{header}\n");
        match convert(text.as_bytes(), Vec::new(), |_| true) {
            Err(CsvError::Header(error)) => error.to_string(),
            other => panic!("{header}: {other:?}"),
        }
    };
    let unknown = refused(&format!("{HEADER},mood"));
    assert!(
        unknown.starts_with("mood: not a contact column"),
        "{unknown}"
    );
    let twice = refused(&format!("{HEADER},summary"));
    assert!(
        twice.starts_with("summary: a column is named once"),
        "{twice}"
    );
    let missing =
        refused("customerId,channel,direction,agent,startedAt,durationSeconds,topic,summary");
    assert!(
        missing.starts_with("outcome: a required column"),
        "{missing}"
    );
}

/// A CSV of `rows` good rows, then one whose summary is a quoted cell of `summary_bytes` bytes,
/// then a good row, produced as it is read (never held whole), counting what was read.
struct Generated {
    text: Vec<u8>,
    at: usize,
    summary_left: usize,
    tail: Vec<u8>,
    read: std::rc::Rc<std::cell::Cell<usize>>,
}

impl Generated {
    fn new(rows: usize, summary_bytes: usize) -> (Self, std::rc::Rc<std::cell::Cell<usize>>) {
        let good = format!(
            "2025-03-07T09:00:00Z,{CUSTOMER},PHONE,INBOUND,agent-0042,60,ENQUIRY,问,RESOLVED,\n"
        );
        let mut text = format!("{HEADER}\n{}", good.repeat(rows));
        text.push_str(&format!(
            "2025-03-07T09:00:00Z,{CUSTOMER},PHONE,INBOUND,agent-0042,60,ENQUIRY,\""
        ));
        let read = std::rc::Rc::default();
        let generated = Self {
            text: text.into_bytes(),
            at: 0,
            summary_left: summary_bytes,
            tail: format!("\",RESOLVED,\n{good}").into_bytes(),
            read: std::rc::Rc::clone(&read),
        };
        (generated, read)
    }
}

impl Read for Generated {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = if self.at < self.text.len() {
            let n = buf.len().min(self.text.len() - self.at);
            buf[..n].copy_from_slice(&self.text[self.at..self.at + n]);
            self.at += n;
            n
        } else if self.summary_left > 0 {
            let n = buf.len().min(self.summary_left);
            buf[..n].fill(b'x');
            self.summary_left -= n;
            n
        } else {
            let n = buf.len().min(self.tail.len());
            buf[..n].copy_from_slice(&self.tail[..n]);
            self.tail.drain(..n);
            n
        };
        self.read.set(self.read.get() + n);
        Ok(n)
    }
}

#[test]
fn a_row_over_the_limit_stops_the_conversion_naming_its_line_and_is_never_held_whole() {
    // 64 MiB in one cell: refused having read at most the limit and the read-ahead past its row.
    let (input, read) = Generated::new(3, 64 << 20);
    let refused = convert(input, Vec::new(), |_| true).unwrap_err();
    assert!(
        matches!(refused, CsvError::RowTooLong { line: 5 }),
        "{refused:?}"
    );
    assert_eq!(
        refused.to_string(),
        format!("line 5: (row): a row is at most {ROW_BYTES_MAX} bytes; nothing was imported")
    );
    assert!(
        read.get() <= ROW_BYTES_MAX + 3 * READ_AHEAD_BYTES,
        "read {} bytes of the input",
        read.get()
    );
    // Just past the limit, inside the read-ahead: the same refusal, not a row skipped.
    let (input, _) = Generated::new(0, ROW_BYTES_MAX);
    let refused = convert(input, Vec::new(), |_| true).unwrap_err();
    assert!(
        matches!(refused, CsvError::RowTooLong { line: 2 }),
        "{refused:?}"
    );
    // A long summary inside the limit is a row like any other (the summary's own rule refuses it).
    let (input, _) = Generated::new(1, ROW_BYTES_MAX - 4096);
    let converted = convert(input, Vec::new(), |_| true).unwrap();
    assert_eq!(converted.converted, 2, "{:?}", converted.problems);
    assert_eq!(converted.problems.len(), 1);
    assert!(
        converted.problems[0].starts_with("line 3: summary: "),
        "{:?}",
        converted.problems
    );
}

/// The problems' lines of `text` converted, and the lines its rows were written at.
fn problem_and_row_lines(text: &str) -> (Vec<String>, Vec<usize>) {
    let (converted, lines) = convert_text(text);
    let written = lines
        .iter()
        .enumerate()
        .filter(|(_, line)| !line.is_empty())
        .map(|(index, _)| index + 1)
        .collect();
    (converted.problems, written)
}

#[test]
fn rows_are_named_by_their_physical_line_whatever_the_line_ends() {
    let good =
        format!("2025-03-07T09:00:00Z,{CUSTOMER},PHONE,INBOUND,agent-0042,60,ENQUIRY,问,RESOLVED,");
    let bad = format!(
        "2025-03-07T09:00:00Z,{CUSTOMER},PIGEON,INBOUND,agent-0042,60,ENQUIRY,问,RESOLVED,"
    );
    let quoted = format!(
        "2025-03-07T09:00:00Z,{CUSTOMER},PHONE,INBOUND,agent-0042,60,ENQUIRY,\"两行{{}}摘要\",RESOLVED,"
    );
    for (name, bom, end) in [
        ("LF", "", "\n"),
        ("CRLF", "", "\r\n"),
        ("CR", "", "\r"),
        ("BOM and LF", "\u{feff}", "\n"),
        ("BOM and CRLF", "\u{feff}", "\r\n"),
    ] {
        // Line 1 the header, 2 a good row, 3-4 a row with a line break in a quoted cell,
        // 5 a bad row, 6 blank, 7 a good row, 8 a bad row.
        let rows = [
            format!("{bom}{HEADER}"),
            good.clone(),
            quoted.replace("{}", end),
            bad.clone(),
            String::new(),
            good.clone(),
            bad.clone(),
        ];
        let text = rows.join(end) + end;
        let (problems, written) = problem_and_row_lines(&text);
        assert_eq!(problems.len(), 2, "{name}: {problems:?}");
        assert!(
            problems[0].starts_with("line 5: channel: "),
            "{name}: {problems:?}"
        );
        assert!(
            problems[1].starts_with("line 8: channel: "),
            "{name}: {problems:?}"
        );
        assert_eq!(written, [2, 3, 7], "{name}");
    }
}

#[test]
fn a_quoted_cell_never_closed_stops_the_conversion_naming_the_line_it_opened_on() {
    let good =
        format!("2025-03-07T09:00:00Z,{CUSTOMER},PHONE,INBOUND,agent-0042,60,ENQUIRY,问,RESOLVED,");
    let broken = format!(
        "2025-03-07T09:00:00Z,{CUSTOMER},PHONE,INBOUND,agent-0042,60,ENQUIRY,\"broken quote,RESOLVED,"
    );
    for end in ["\n", "\r\n"] {
        // Three good rows after it, each swallowed into its summary.
        let text = [HEADER, &broken, &good, &good, &good].join(end) + end;
        let refused = convert(text.as_bytes(), Vec::new(), |_| true).unwrap_err();
        assert!(
            matches!(refused, CsvError::UnclosedQuote { line: 2 }),
            "{refused:?}"
        );
        assert_eq!(
            refused.to_string(),
            "line 2: (csv): a quoted cell opened on this line is never closed; the rows after it \
             cannot be read"
        );
        // Opened on the second line of a row whose first cell is quoted and closed.
        let text = format!(
            "{HEADER}{end}{good}{end}\"2025-03-07T09:00:00Z\",{CUSTOMER},PHONE,INBOUND,agent-0042,60,ENQUIRY,\"a{end}b\",RESOLVED,\"PDAA{end}{good}{end}"
        );
        let refused = convert(text.as_bytes(), Vec::new(), |_| true).unwrap_err();
        assert!(
            matches!(refused, CsvError::UnclosedQuote { line: 4 }),
            "{refused:?}"
        );
        // The last row ending inside its quotes, with no line break after it.
        let text = format!("{HEADER}{end}{good}{end}{broken}");
        let refused = convert(text.as_bytes(), Vec::new(), |_| true).unwrap_err();
        assert!(
            matches!(refused, CsvError::UnclosedQuote { line: 3 }),
            "{refused:?}"
        );
    }
    // Quotes inside an unquoted cell, doubled quotes and a quoted cell closed on the last line
    // are no open quote.
    let text = format!(
        "{HEADER}\n2025-03-07T09:00:00Z,{CUSTOMER},PHONE,INBOUND,agent-0042,60,ENQUIRY,他说\"好\",RESOLVED,\n\
         2025-03-07T09:00:00Z,{CUSTOMER},PHONE,INBOUND,agent-0042,60,ENQUIRY,\"他说\"\"好\"\"\",RESOLVED,\"PDAA2025000001\""
    );
    let (converted, _) = convert_text(&text);
    assert!(converted.problems.is_empty(), "{:?}", converted.problems);
    assert_eq!(converted.converted, 2);
}

#[test]
fn text_after_a_closing_quote_stops_the_conversion_naming_its_line_character_and_column() {
    let good =
        format!("2025-03-07T09:00:00Z,{CUSTOMER},PHONE,INBOUND,agent-0042,60,ENQUIRY,问,RESOLVED,");
    let stray = format!(
        "2025-03-07T09:00:00Z,{CUSTOMER},PHONE,INBOUND,agent-0042,60,ENQUIRY,\"客户说明天再打,RESOLVED,"
    );
    let closed_on_the_next_row = format!(
        "2025-03-07T10:00:00Z,{CUSTOMER},PHONE,INBOUND,agent-0042,60,ENQUIRY,\"回复\",RESOLVED,"
    );
    for end in ["\n", "\r\n", "\r"] {
        let text = [HEADER, &good, &stray, &closed_on_the_next_row, &good].join(end) + end;
        let refused = convert(text.as_bytes(), Vec::new(), |_| true).unwrap_err();
        let CsvError::TextAfterClosingQuote {
            line,
            character,
            opened_line,
            column,
        } = &refused
        else {
            panic!("{refused:?}");
        };
        // `2025-03-07T10:00:00Z,` is 21 characters, the customer 37, then
        // `PHONE,INBOUND,agent-0042,60,ENQUIRY,"` 37: 回 is the 96th.
        assert_eq!(
            (*line, *character, *opened_line, column.as_str()),
            (4, 96, 3, "summary"),
            "{end:?}"
        );
    }
    // A space after the closing quote and then text is text after it too.
    let text = [HEADER, &good.replace(",问,", ",\"问\" 了,")].join("\n");
    let refused = convert(text.as_bytes(), Vec::new(), |_| true).unwrap_err();
    assert!(
        matches!(
            refused,
            CsvError::TextAfterClosingQuote {
                line: 2,
                character: 99,
                ..
            }
        ),
        "{refused:?}"
    );
    // In the header, before the columns are known.
    let text = format!("\"startedAt\"x,{}\n{good}\n", &HEADER["startedAt,".len()..]);
    let refused = convert(text.as_bytes(), Vec::new(), |_| true).unwrap_err();
    assert!(
        refused
            .to_string()
            .starts_with("line 1: (csv): text after the closing quote of a quoted cell (character 12; the cell opened on line 1)"),
        "{refused}"
    );
}

#[test]
fn cells_are_read_without_their_surrounding_spaces() {
    let padded = format!(
        "{HEADER}\n 2025-03-07T09:00:00Z ,\t{CUSTOMER} , PHONE , INBOUND , agent-0042 , 60 , ENQUIRY ,\" 问 \" , RESOLVED ,  \n"
    );
    let plain = format!(
        "{HEADER}\n2025-03-07T09:00:00Z,{CUSTOMER},PHONE,INBOUND,agent-0042,60,ENQUIRY,问,RESOLVED,\n"
    );
    let (converted, padded_lines) = convert_text(&padded);
    assert!(converted.problems.is_empty(), "{:?}", converted.problems);
    let (_, plain_lines) = convert_text(&plain);
    // The same line: the same contact id, event id and values.
    assert_eq!(padded_lines, plain_lines);
}
