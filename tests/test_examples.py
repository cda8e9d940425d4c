"""Every script in examples/ runs and prints what it promises (CI runs them here)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

# What each example must print: the per-task table it exists to show.
EXPECTED_OUTPUT = {
    "quickstart.py": ["emotion", "ekman", "sentiment", "n_labelled", "f1_macro"],
    "grid_search_task_weights.py": ["mtl__task_weights__emotion", "emotion_f1_macro", "best:"],
    "partial_labels_regression.py": ["labelled rows", "continuous", "pearson"],
    "translate_and_summarize.py": ["fit:", "de", "subject", "bleu", "rougeL"],
    "corpora_of_different_sizes.py": ["natural order", "temperature T=2", "annealed", "draws"],
    "low_resource_target.py": ["ranking of the candidates", "kept:", "with the kept tasks"],
    "weight_conditioned_search.py": [
        "conditioned mean F1",
        "TaskWeightSearchCV: 3 fits + 1 refit",
        "best (conditioned):",
        "Pareto front on test:",
        "hypervolume:",
        "front plot:",
    ],
    "plot_learning_curves.py": ["trained", "best epoch:", "validation score per task and epoch"],
    "plot_gradient_conflicts.py": ["mean cosine", "conflict fraction", "ekman|sentiment"],
    "plot_task_affinity.py": ["affinity (rows:", "random", "suggested 2 groups:"],
    "plot_relative_gain.py": ["mtl_score", "single_task_score", "relative_gain", "delta_m:"],
    "plot_architectures.py": ["hard sharing", "MMoE", "PLE", "cross-stitch", "parameters"],
    "plot_tagger_entity_scores.py": ["test scores:", "span_f1", "entity type", "PER"],
    "pretrained_encoder.py": [
        "from scratch (TextEncoder)",
        "frozen all-MiniLM-L6-v2",
        "ner span F1",
    ],
}


def test_every_example_is_listed():
    assert sorted(p.name for p in EXAMPLES.glob("*.py")) == sorted(EXPECTED_OUTPUT)


@pytest.mark.parametrize("name", sorted(EXPECTED_OUTPUT))
def test_example_runs(name):
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / name)],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "MPLBACKEND": "Agg"},  # the gallery scripts draw figures
    )
    assert result.returncode == 0, result.stderr[-3000:]
    for text in EXPECTED_OUTPUT[name]:
        assert text in result.stdout, f"{name} did not print {text!r}:\n{result.stdout}"
