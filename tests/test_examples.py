"""Every script in examples/ runs and prints what it promises (CI runs them here)."""

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
}


def test_every_example_is_listed():
    assert sorted(p.name for p in EXAMPLES.glob("*.py")) == sorted(EXPECTED_OUTPUT)


@pytest.mark.parametrize("name", sorted(EXPECTED_OUTPUT))
def test_example_runs(name):
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / name)], capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr[-3000:]
    for text in EXPECTED_OUTPUT[name]:
        assert text in result.stdout, f"{name} did not print {text!r}:\n{result.stdout}"
