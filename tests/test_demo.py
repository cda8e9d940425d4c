"""The README's main job: the demo trains and reports multi-task vs single-task scores."""

import math

from skmtl.demo import _print, run_demo


def test_demo_reports_every_task(capsys):
    results = run_demo(max_epochs=2)
    assert set(results["tasks"]) == {"emotion", "ekman", "sentiment"}
    for scores in results["tasks"].values():
        for value in scores.values():
            assert 0.0 <= value <= 1.0 and not math.isnan(value)
    assert results["fit_seconds"]["multi_task"] > 0
    assert results["fit_seconds"]["single_task"] > 0
    _print(results)
    out = capsys.readouterr().out
    for text in ("multi-task", "single-task", "relative gain", "emotion", "fit time"):
        assert text in out
