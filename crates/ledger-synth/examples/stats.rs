//! Prints the shape of a generated history and how fast it was made:
//! `cargo run --release -p ledger-synth --example stats -- [customers] [years] [seed]`.

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use ledger_domain::events::Event;
use ledger_domain::ids::CustomerId;
use ledger_synth::{SynthConfig, generate};

/// An `i64` as the nearest `f64`, without a lossy cast: both 32-bit halves convert exactly.
fn to_f64(value: i64) -> f64 {
    let high = i32::try_from(value >> 32).expect("fits");
    let low = u32::try_from(value & 0xFFFF_FFFF).expect("masked");
    f64::from(high) * 4_294_967_296.0 + f64::from(low)
}

fn main() {
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    let number = |index: usize, default: u64| {
        arguments
            .get(index)
            .and_then(|text| text.parse().ok())
            .unwrap_or(default)
    };
    let config = SynthConfig {
        customers: u32::try_from(number(0, 2_000)).unwrap_or(2_000),
        years: u32::try_from(number(1, 3)).unwrap_or(3),
        seed: number(2, 7),
        ..SynthConfig::default()
    };
    let started = Instant::now();
    let fixture = arguments
        .first()
        .is_some_and(|argument| argument == "fixture");
    let generator: Box<dyn Iterator<Item = ledger_synth::SyntheticEvent>> = if fixture {
        Box::new(ledger_synth::fixture_events().into_iter())
    } else {
        Box::new(generate(&config))
    };
    let mut count = 0_i64;
    let mut types: BTreeMap<&'static str, u64> = BTreeMap::new();
    let mut channels: BTreeMap<String, i64> = BTreeMap::new();
    let mut topics: BTreeMap<String, i64> = BTreeMap::new();
    let mut premium: HashMap<CustomerId, i64> = HashMap::new();
    let mut group: HashMap<CustomerId, bool> = HashMap::new();
    for synthetic in generator {
        count += 1;
        *types.entry(synthetic.event.event_type()).or_default() += 1;
        match &synthetic.event {
            Event::ContactRecorded(contact) => {
                *channels
                    .entry(format!("{:?}", contact.channel))
                    .or_default() += 1;
                *topics
                    .entry(format!("{:?} {:?}", contact.topic, contact.channel))
                    .or_default() += 1;
            }
            Event::CustomerRegistered(registered) => {
                group.insert(registered.customer_id, registered.group.is_some());
            }
            Event::PolicyIssued(issued) => {
                *premium.entry(issued.customer_id).or_default() += issued.premium.fen();
            }
            Event::PolicyRenewed(renewed) => {
                *premium.entry(renewed.customer_id).or_default() += renewed.premium.fen();
            }
            _ => {}
        }
    }
    let elapsed = started.elapsed();
    let seconds = elapsed.as_secs_f64();
    let label = if fixture {
        String::from("the fixture")
    } else {
        format!("{} customers", config.customers)
    };
    println!(
        "{count} events for {label} over {} years in {seconds:.2} s ({:.0} events/s), {:.1} events per customer",
        config.years,
        to_f64(count) / seconds,
        to_f64(count) / f64::from(config.customers),
    );
    let mut premiums: Vec<(i64, bool)> = premium
        .iter()
        .map(|(customer, amount)| (*amount, group.get(customer).copied().unwrap_or(false)))
        .collect();
    premiums.sort_by_key(|(amount, _)| std::cmp::Reverse(*amount));
    let total: i64 = premiums.iter().map(|(amount, _)| amount).sum();
    let top = premiums.len() / 5;
    let top_sum: i64 = premiums[..top].iter().map(|(amount, _)| amount).sum();
    let group_sum: i64 = premiums
        .iter()
        .filter(|(_, group)| *group)
        .map(|(amount, _)| amount)
        .sum();
    println!(
        "policyholders {}: top 20% hold {:.1}% of premium, group customers {:.1}%; total {:.0} yuan",
        premiums.len(),
        100.0 * to_f64(top_sum) / to_f64(total),
        100.0 * to_f64(group_sum) / to_f64(total),
        to_f64(total) / 100.0
    );
    let contacts: i64 = channels.values().sum();
    for (channel, n) in &channels {
        println!(
            "  {channel:<22} {n:>8} {:>5.1}%",
            100.0 * to_f64(*n) / to_f64(contacts)
        );
    }
    if std::env::var_os("SYNTH_TOPICS").is_some() {
        for (topic, n) in &topics {
            println!("    {topic:<34} {n:>8}");
        }
    }
    for (name, n) in &types {
        println!("{name:<32} {n:>8}");
    }
}
