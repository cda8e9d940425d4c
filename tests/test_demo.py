"""The README's main job: the demo trains and reports multi-task vs single-task scores."""

import math

from skmtl.demo import _print, _print_tagging, run_demo, run_tagging_demo


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


def test_tagging_demo_reports_both_tasks(capsys):
    results = run_tagging_demo(max_epochs=2)
    assert {t: s["metric"] for t, s in results["tasks"].items()} == {
        "upos": "token_accuracy",
        "ner": "span_f1",
    }
    for scores in results["tasks"].values():
        for key in ("multi_task", "single_task"):
            assert 0.0 <= scores[key] <= 1.0 and not math.isnan(scores[key])
    # two epochs on 300 sentences already tag far better than chance
    assert results["tasks"]["upos"]["multi_task"] > 0.3
    _print_tagging(results)
    out = capsys.readouterr().out
    for text in ("upos", "ner", "span_f1", "multi-task", "single-task"):
        assert text in out
