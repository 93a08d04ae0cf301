//! A training run's files: starting one in a new directory, resuming one from its last snapshot,
//! saving snapshots (weights, optimizer moments and state, in `training/checkpoint/`: written
//! aside, then swapped in by renames, so a run killed while saving still has a whole one), and
//! the loss log.
//!
//! "Checkpoint" elsewhere means a model's directory of files (`model::Checkpoint`); a run's saved
//! state is a snapshot here, though its folder and `--checkpoint-every` keep the older word.

use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use candle_core::{DType, Device, Var};
use candle_nn::{VarBuilder, VarMap};

use super::adamw::AdamW;
use super::{LogLine, TrainOptions, TrainState};
use crate::model::config::ModelConfig;
use crate::model::kernels::Kernels;
use crate::model::{AudioLm, LinearLoader, Processor};
use crate::synth::demo_checkpoint::{adopt_weights, init_checkpoint};
use crate::synth::tokenizer::{demo_tokenizer, VOCABULARY_SEEDS};

/// Steps a new run takes when `--steps` is not given.
pub const DEFAULT_STEPS: usize = 2000;

const WEIGHTS: &str = "model.safetensors";
const OPTIMIZER: &str = "optimizer.safetensors";
const STATE: &str = "state.json";
const LOG: &str = "log.jsonl";

/// A run in progress: its state, the model (one copy per worker, sharing the variables), the
/// optimizer and the open loss log.
pub(super) struct Run {
    pub state: TrainState,
    out: PathBuf,
    varmap: VarMap,
    pub models: Vec<AudioLm>,
    pub processor: Processor,
    pub optimizer: AdamW,
    /// The trained variables, in the optimizer's order.
    pub trained: Vec<Var>,
    log: File,
}

fn training_dir(out: &Path) -> PathBuf {
    out.join("training")
}

impl Run {
    /// A new run: a fresh checkpoint directory at `options.out`, weights from the seed.
    pub fn start(options: &TrainOptions) -> Result<Self> {
        let out = &options.out;
        let occupied = out.exists()
            && fs::read_dir(out)
                .map(|mut entries| entries.next().is_some())
                .unwrap_or(true);
        if occupied {
            bail!(
                "{}: already exists; continue its run with --resume or give a new directory",
                out.display()
            );
        }
        if let Some(from) = &options.from {
            // Checked before anything is written, so a wrong --from leaves no directory behind.
            crate::model::check_checkpoint_dir(from).map_err(|e| anyhow::anyhow!("--from: {e}"))?;
        }
        let tokenizer = demo_tokenizer(VOCABULARY_SEEDS)?;
        init_checkpoint(out, &tokenizer, options.seed)?;
        if let Some(from) = &options.from {
            adopt_weights(from, out, &tokenizer)?;
        }
        fs::create_dir_all(training_dir(out))
            .with_context(|| format!("{}: cannot create", training_dir(out).display()))?;
        let state = TrainState {
            step: 0,
            seed: options.seed,
            batch: options.batch,
            steps: options.steps.unwrap_or(DEFAULT_STEPS),
            peak_learning_rate: options.peak_learning_rate,
            warmup_steps: options.warmup_steps,
            weight_decay: options.weight_decay,
            clip_norm: options.clip_norm,
            seconds: 0.0,
            prompts: options.prompts.clone(),
            from: options.from.as_ref().map(|p| p.display().to_string()),
        };
        let run = Self::open(out, state, &out.join(WEIGHTS), None, options.workers)?;
        run.save_snapshot()?;
        Ok(run)
    }

    /// The run in `options.out`, from its last snapshot; `options.steps`, when given, moves its
    /// end (and with it the learning-rate schedule's).
    pub fn resume(options: &TrainOptions) -> Result<Self> {
        let out = &options.out;
        let dir = last_snapshot(out)?;
        let state_path = dir.join(STATE);
        let text = fs::read_to_string(&state_path)
            .with_context(|| format!("{}: cannot read", state_path.display()))?;
        let mut state: TrainState = serde_json::from_str(&text)
            .with_context(|| format!("{}: not a training state", state_path.display()))?;
        if let Some(steps) = options.steps {
            state.steps = steps;
        }
        Self::open(
            out,
            state,
            &dir.join(WEIGHTS),
            Some(&dir.join(OPTIMIZER)),
            options.workers,
        )
    }

    fn open(
        out: &Path,
        state: TrainState,
        weights: &Path,
        optimizer_state: Option<&Path>,
        workers: usize,
    ) -> Result<Self> {
        let config = ModelConfig::load(&out.join("config.json"))?;
        let processor = Processor::load(out, config.audio_token_index, config.audio_token_rate())?;
        let mut varmap = VarMap::new();
        let models = (0..workers)
            .map(|_| {
                let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
                AudioLm::load_with(
                    &config,
                    vb,
                    Kernels::Differentiable,
                    &LinearLoader::dense(DType::F32),
                    &LinearLoader::dense(DType::F32),
                )
            })
            .collect::<candle_core::Result<Vec<_>>>()?;
        varmap
            .load(weights)
            .with_context(|| format!("{}: not weights of this model", weights.display()))?;
        // The audio positions are fixed sinusoids, as in Whisper: not trained.
        let named: Vec<(String, Var)> = {
            // Nothing else holds this lock here, so it cannot be poisoned.
            let data = varmap.data().lock().expect("the variables");
            let mut named: Vec<(String, Var)> = data
                .iter()
                .filter(|(name, _)| !name.ends_with("embed_positions.weight"))
                .map(|(name, var)| (name.clone(), var.clone()))
                .collect();
            named.sort_by(|a, b| a.0.cmp(&b.0));
            named
        };
        let trained = named.iter().map(|(_, var)| var.clone()).collect();
        let mut optimizer = AdamW::new(named, state.weight_decay)?;
        if let Some(path) = optimizer_state {
            optimizer.load(path)?;
            if optimizer.steps != state.step {
                bail!(
                    "{}: optimizer state after {} steps, training state after {}",
                    path.display(),
                    optimizer.steps,
                    state.step
                );
            }
        }
        let log = open_log(&training_dir(out).join(LOG), state.step)?;
        Ok(Self {
            state,
            out: out.to_owned(),
            varmap,
            models,
            processor,
            optimizer,
            trained,
            log,
        })
    }

    /// Writes the snapshot of the current step: into `checkpoint.tmp`, then swapped in for
    /// `checkpoint`; the weights are also copied to the top of the directory, so it loads as a
    /// model.
    pub fn save_snapshot(&self) -> Result<()> {
        let training = training_dir(&self.out);
        let fresh = training.join("checkpoint.tmp");
        let current = training.join("checkpoint");
        let old = training.join("checkpoint.old");
        let context = |path: &Path| format!("{}: cannot write the checkpoint", path.display());
        if fresh.exists() {
            fs::remove_dir_all(&fresh).with_context(|| context(&fresh))?;
        }
        fs::create_dir_all(&fresh).with_context(|| context(&fresh))?;
        self.varmap
            .save(fresh.join(WEIGHTS))
            .with_context(|| context(&fresh))?;
        self.optimizer.save(&fresh.join(OPTIMIZER))?;
        fs::write(
            fresh.join(STATE),
            serde_json::to_string_pretty(&self.state)? + "\n",
        )
        .with_context(|| context(&fresh))?;
        if current.exists() {
            if old.exists() {
                fs::remove_dir_all(&old).with_context(|| context(&old))?;
            }
            fs::rename(&current, &old).with_context(|| context(&current))?;
        }
        fs::rename(&fresh, &current).with_context(|| context(&current))?;
        if old.exists() {
            fs::remove_dir_all(&old).with_context(|| context(&old))?;
        }
        let top = self.out.join(WEIGHTS);
        let top_fresh = self.out.join("model.safetensors.tmp");
        fs::copy(current.join(WEIGHTS), &top_fresh).with_context(|| context(&top_fresh))?;
        fs::rename(&top_fresh, &top).with_context(|| context(&top))?;
        Ok(())
    }

    /// Appends one step's line to the loss log.
    pub fn append_log(&mut self, line: &LogLine) -> Result<()> {
        let path = training_dir(&self.out).join(LOG);
        writeln!(self.log, "{}", serde_json::to_string(line)?)
            .and_then(|()| self.log.flush())
            .with_context(|| format!("{}: cannot write", path.display()))
    }
}

/// The directory of the last whole snapshot under `out`.
fn last_snapshot(out: &Path) -> Result<PathBuf> {
    let training = training_dir(out);
    // A run killed between the two renames of a save leaves only `checkpoint.old`.
    for name in ["checkpoint", "checkpoint.old"] {
        let dir = training.join(name);
        if dir.join(STATE).exists() {
            return Ok(dir);
        }
    }
    bail!(
        "{}: no training checkpoint to resume (start a run with `auscult demo train --out DIR`)",
        out.display()
    )
}

/// The loss log, cut back to the lines of the first `steps` steps (a resumed run writes the
/// later ones again), open for appending. An unreadable line ends what is kept: it can only be a
/// line cut short by a kill.
fn open_log(path: &Path, steps: usize) -> Result<File> {
    let context = || format!("{}: cannot write", path.display());
    let mut kept = Vec::new();
    if let Ok(file) = File::open(path) {
        for line in BufReader::new(file).lines() {
            let Ok(line) = line else { break };
            match serde_json::from_str::<LogLine>(&line) {
                Ok(entry) if entry.step <= steps => kept.push(line),
                _ => break,
            }
        }
    }
    let fresh = path.with_extension("jsonl.tmp");
    let mut text = kept.join("\n");
    if !text.is_empty() {
        text.push('\n');
    }
    fs::write(&fresh, text).with_context(context)?;
    fs::rename(&fresh, path).with_context(context)?;
    OpenOptions::new()
        .append(true)
        .open(path)
        .with_context(context)
}
