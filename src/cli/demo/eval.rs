//! `auscult demo eval`: the flags, and the tables it prints (or the JSON object).

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use super::configure_candle_threads;
use crate::cli::bundled::{bundled, DEMO_MODEL};
use crate::cli::model_choice::model_choice;
use crate::model::Quantization;
use crate::synth::evaluation::{evaluate, EvalOptions, EvalReport, EvidenceTables};
use crate::synth::prompts::PromptStyle;

#[derive(Debug, Args)]
pub struct EvalArgs {
    /// The checkpoint directory to evaluate [default: the bundled demo model].
    #[arg(long, value_name = "DIR")]
    model: Option<PathBuf>,
    /// Item seeds are `SEED << 32 | i`; training never uses them.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Items to evaluate.
    #[arg(long, default_value_t = 200)]
    n: usize,
    /// Keep the clips, traces (`traces.jsonl`, for `inspect` and `report`) and sidecars here
    /// [default: a temporary folder].
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Most tokens generated per item.
    #[arg(long, value_name = "N", default_value_t = 256)]
    max_new_tokens: usize,
    /// Print one JSON object instead of tables.
    #[arg(long)]
    json: bool,
    /// Threads, each with its own copy of the model [default: the CPU's cores].
    #[arg(long)]
    workers: Option<usize>,
    /// Quantize the model's decoder first (to measure what quantization changes).
    #[arg(long, value_parser = model_choice::<Quantization>(), value_name = "FORMAT")]
    quantize: Option<Quantization>,
    /// Also measure each item's causal evidence (reliance with silence and masked, occlusion in
    /// 0.25 s windows, the answer with silence, the audio hidden from every step) and check it
    /// against the events each claim names.
    #[arg(long)]
    evidence: bool,
    /// How the items are asked: the demo's own phrasing, or R1-AQA's direct or reasoning
    /// prompt (what `batch` sends). Give several (`--prompt r1-aqa,r1-aqa-think`) to ask every
    /// item each way and print the results side by side (traces in `--out/PROMPT/`).
    #[arg(long, value_delimiter = ',', value_parser = model_choice::<PromptStyle>(),
          default_value = "demo", value_name = "PROMPT")]
    prompt: Vec<PromptStyle>,
}

pub fn run(args: EvalArgs) -> Result<()> {
    let workers = args.workers.unwrap_or_else(|| {
        std::thread::available_parallelism().map_or(1, |n| n.get().min(args.n.max(1)))
    });
    configure_candle_threads(workers);
    let temporary = match &args.out {
        Some(_) => None,
        None => Some(tempfile::tempdir()?),
    };
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| temporary.as_ref().expect("made above").path().to_owned());
    // Each prompt once, in the order given (each writes its own folder).
    let mut prompts: Vec<PromptStyle> = Vec::new();
    for &prompt in &args.prompt {
        if !prompts.contains(&prompt) {
            prompts.push(prompt);
        }
    }
    let several = prompts.len() > 1;
    let mut reports = Vec::new();
    for &prompt in &prompts {
        let options = EvalOptions {
            model: args.model.clone().unwrap_or_else(|| bundled(DEMO_MODEL)),
            seed: args.seed,
            n: args.n,
            out: if several {
                out.join(prompt.to_string())
            } else {
                out.clone()
            },
            max_new_tokens: args.max_new_tokens,
            workers,
            quantize: args.quantize,
            evidence: args.evidence,
            prompt,
        };
        let bar = indicatif::ProgressBar::new(args.n as u64);
        bar.set_style(
            // A constant template of indicatif's own keys: it cannot fail to parse.
            indicatif::ProgressStyle::with_template("{msg} {bar:30} {pos}/{len} items  ETA {eta}")
                .expect("a valid template"),
        );
        bar.set_message(prompt.to_string());
        let report = evaluate(&options, &|| bar.inc(1))?;
        bar.finish_and_clear();
        reports.push((options.out, report));
    }
    if args.json {
        let reports: Vec<&EvalReport> = reports.iter().map(|(_, r)| r).collect();
        match reports.as_slice() {
            [one] => println!("{}", serde_json::to_string(one)?),
            several => println!("{}", serde_json::to_string(several)?),
        }
        return Ok(());
    }
    for (folder, report) in &reports {
        if several {
            println!("── prompt {} ──", report.prompt);
        }
        print!("{}", eval_table(report));
        if args.out.is_some() {
            println!(
                "traces: {} (open with `auscult inspect`)",
                folder.join("traces.jsonl").display()
            );
        }
        if several {
            println!();
        }
    }
    if several {
        let reports: Vec<&EvalReport> = reports.iter().map(|(_, r)| r).collect();
        print!("{}", prompts_table(&reports));
    }
    Ok(())
}

/// The same items asked each way, side by side: answer accuracy overall and per question type,
/// perception claims and their accuracy, and the length of the answers.
fn prompts_table(reports: &[&EvalReport]) -> String {
    use std::fmt::Write;
    let percent = |x: Option<f64>| x.map_or("-".to_owned(), |x| format!("{:.1} %", 100.0 * x));
    let mut text = String::new();
    let header: Vec<String> = reports
        .iter()
        .map(|r| format!("{} ({})", r.prompt, r.prompt.answer_kind()))
        .collect();
    let row = |text: &mut String, name: &str, cells: Vec<String>| {
        let _ = write!(text, "{name:<22}");
        for cell in cells {
            let _ = write!(text, " {cell:>22}");
        }
        text.push('\n');
    };
    row(&mut text, "prompt", header);
    row(
        &mut text,
        "answer accuracy",
        reports
            .iter()
            .map(|r| {
                format!(
                    "{} ({}/{})",
                    percent(Some(r.answer_accuracy)),
                    r.correct,
                    r.n
                )
            })
            .collect(),
    );
    let types: std::collections::BTreeSet<&str> = reports
        .iter()
        .flat_map(|r| r.per_type.iter().map(|t| t.question_type.as_str()))
        .collect();
    for name in types {
        row(
            &mut text,
            &format!("  {name}"),
            reports
                .iter()
                .map(|r| {
                    r.per_type
                        .iter()
                        .find(|t| t.question_type == name)
                        .map_or("-".to_owned(), |t| {
                            format!("{} ({}/{})", percent(Some(t.accuracy)), t.correct, t.n)
                        })
                })
                .collect(),
        );
    }
    row(
        &mut text,
        "perception claims",
        reports
            .iter()
            .map(|r| (r.matched + r.hallucinated + r.misused).to_string())
            .collect(),
    );
    row(
        &mut text,
        "CAFE Acc_per",
        reports.iter().map(|r| percent(r.acc_per)).collect(),
    );
    row(
        &mut text,
        "tokens per answer",
        reports
            .iter()
            .map(|r| format!("{:.1}", r.mean_generated_tokens))
            .collect(),
    );
    row(
        &mut text,
        "failed runs",
        reports.iter().map(|r| r.failed.to_string()).collect(),
    );
    text
}

fn eval_table(report: &EvalReport) -> String {
    use std::fmt::Write;
    let percent = |x: Option<f64>| x.map_or("-".to_owned(), |x| format!("{:.1} %", 100.0 * x));
    let mut text = String::new();
    let _ = writeln!(
        text,
        "{}: {} items (seeds {}..={}), {:.0} s",
        report.model, report.n, report.item_seeds[0], report.item_seeds[1], report.seconds
    );
    let _ = writeln!(
        text,
        "answer accuracy  {}  ({}/{}, {} failed)",
        percent(Some(report.answer_accuracy)),
        report.correct,
        report.n,
        report.failed
    );
    let _ = writeln!(
        text,
        "CAFE  Acc_per {}  Err_per {}  Err_use {}  Err_omit {}",
        percent(report.acc_per),
        percent(report.err_per),
        percent(report.err_use),
        percent(report.err_omit)
    );
    let _ = writeln!(
        text,
        "      matched {}  hallucinated {}  misused {}  neutral {}  missed {} of {} events; perception all right in {}/{} items",
        report.matched, report.hallucinated, report.misused, report.neutral, report.missed,
        report.targets, report.perfect_perception, report.n
    );
    let _ = writeln!(text, "\nquestion type        items  accuracy");
    for row in &report.per_type {
        let _ = writeln!(
            text,
            "{:<20} {:>5}  {}",
            row.question_type,
            row.n,
            percent(Some(row.accuracy))
        );
    }
    let _ = writeln!(text, "\nperception step   claims  Acc_per");
    for row in &report.per_sound {
        let _ = writeln!(
            text,
            "sound {:<11} {:>6}  {}",
            row.sound,
            row.claims,
            percent(Some(row.acc_per))
        );
    }
    if !report.misused_details.is_empty() {
        let details: Vec<String> = report
            .misused_details
            .iter()
            .map(|(detail, count)| format!("{detail} {count}"))
            .collect();
        let _ = writeln!(
            text,
            "misused perception claims got wrong: {}",
            details.join(", ")
        );
    }
    let _ = writeln!(
        text,
        "\nstep ratio by step (slope {}):",
        report
            .step_ratio_slope
            .map_or("-".to_owned(), |s| format!("{s:+.4} per step"))
    );
    for point in &report.step_ratio {
        let _ = writeln!(
            text,
            "step {:<3} {:.3}  ({} items)",
            point.step, point.mean_ratio, point.examples
        );
    }
    if let Some(evidence) = &report.evidence {
        text.push_str(&evidence_tables(evidence));
    }
    text
}

/// The `--evidence` tables, as the README shows them.
fn evidence_tables(tables: &EvidenceTables) -> String {
    use std::fmt::Write;
    let percent = |x: f64| format!("{:.1} %", 100.0 * x);
    let number = |x: Option<f64>| x.map_or("-".to_owned(), |x| format!("{x:.3}"));
    let mut text = String::new();
    let _ = writeln!(
        text,
        "\nwithout the audio (silence): answer accuracy {}",
        tables
            .accuracy_without_audio
            .map_or("-".to_owned(), percent)
    );
    let _ = writeln!(
        text,
        "\npeak inside the named event   claims  attention  (chance)  occlusion  (chance)"
    );
    for row in &tables.localisation {
        let _ = writeln!(
            text,
            "{:<28} {:>6}  {:>9}  {:>8}  {:>9}  {:>8}",
            row.label,
            row.claims,
            percent(row.attention_peak_inside),
            percent(row.attention_chance),
            row.occlusion_peak_inside.map_or("-".to_owned(), percent),
            percent(row.occlusion_chance)
        );
    }
    let _ = writeln!(
        text,
        "\nstep reliance by label        steps  delta silence  delta masked  KL silence  flips silence"
    );
    for row in &tables.reliance_by_label {
        let _ = writeln!(
            text,
            "{:<28} {:>6}  {:>13}  {:>12}  {:>10}  {:>13}",
            format!("{} ({})", row.label, row.kind),
            row.steps,
            number(row.delta_silence),
            number(row.delta_masked),
            number(row.kl_silence),
            row.flip_share_silence.map_or("-".to_owned(), percent)
        );
    }
    let _ = writeln!(
        text,
        "\ndecay by step (slopes per step: ratio {}, delta silence {}, delta masked {}; r(ratio, delta silence) {})",
        number(tables.ratio_slope.map(|s| s * 1.0)),
        number(tables.delta_silence_slope),
        number(tables.delta_masked_slope),
        number(tables.ratio_delta_r)
    );
    let _ = writeln!(text, "step  items  ratio  delta silence  delta masked");
    for row in &tables.decay {
        let _ = writeln!(
            text,
            "{:<5} {:>5}  {:.3}  {:>13}  {:>12}",
            row.step,
            row.items,
            row.ratio,
            number(row.delta_silence),
            number(row.delta_masked)
        );
    }
    let _ = writeln!(
        text,
        "\naudio hidden from step k on   tried  answer changed  still right"
    );
    for (k, tried, changed, right) in &tables.answer_changed_by_step {
        let _ = writeln!(
            text,
            "k = {k:<25} {tried:>6}  {:>14}  {:>11}",
            percent(*changed),
            percent(*right)
        );
    }
    let _ = writeln!(
        text,
        "\ncost per item                                  seconds  x the run"
    );
    for row in &tables.costs {
        let _ = writeln!(
            text,
            "{:<44} {:>8.3}  {:>8.1}",
            row.measurement, row.mean_seconds, row.times_the_run
        );
    }
    text
}
