"""The README's main job: the demo trains and reports multi-task vs single-task scores."""

import math

from skmtl.demo import (
    _print,
    _print_low_resource,
    _print_summary,
    _print_tagging,
    main,
    run_demo,
    run_low_resource_demo,
    run_tagging_demo,
)


def test_demo_reports_every_task(capsys):
    results = run_demo(max_epochs=2)
    assert set(results["tasks"]) == {"emotion", "ekman", "sentiment"}
    for scores in results["tasks"].values():
        assert set(scores) == {"multi_task", "fairgrad", "single_task"}
        for value in scores.values():
            assert 0.0 <= value <= 1.0 and not math.isnan(value)
    for key in ("multi_task", "fairgrad", "single_task"):
        assert results["fit_seconds"][key] > 0
    _print(results)
    out = capsys.readouterr().out
    for text in ("one model per task", "multi-task, equal", "FairGrad", "emotion", "fit time"):
        assert text in out


def test_low_resource_demo_hides_most_target_labels(capsys):
    results = run_low_resource_demo(fraction=0.1, max_epochs=2)
    # about 10 % of the 3000 shipped comments keep their emotion labels
    assert 200 < results["labelled"] < 400 and results["train"] == 3000
    for value in results["emotion"].values():
        assert 0.0 <= value <= 1.0 and not math.isnan(value)
    _print_low_resource(results)
    out = capsys.readouterr().out
    assert f"emotion labelled on {results['labelled']} of 3000" in out


def test_main_prints_every_part_and_the_summary(monkeypatch, capsys):
    fake_docs = {
        "tasks": {t: {"multi_task": 0.4, "fairgrad": 0.5, "single_task": 0.5} for t in "ab"},
        "fit_seconds": {"multi_task": 1.0, "fairgrad": 2.0, "single_task": 2.0},
        "sizes": {"train": 3, "dev": 1, "test": 1},
    }
    fake_low = {"labelled": 3, "train": 30, "emotion": {"multi_task": 0.2, "single_task": 0.1}}
    fake_tokens = {
        "tasks": {"upos": {"metric": "token_accuracy", "multi_task": 0.9, "single_task": 0.8}},
        "fit_seconds": {"multi_task": 1.0, "single_task": 1.0},
        "sizes": {"train": 3, "test": 1},
    }
    import skmtl.demo as demo

    monkeypatch.setattr(demo, "run_demo", lambda *a, **k: fake_docs)
    monkeypatch.setattr(demo, "run_low_resource_demo", lambda *a, **k: fake_low)
    monkeypatch.setattr(demo, "run_tagging_demo", lambda *a, **k: fake_tokens)
    main(["--quiet"])
    out = capsys.readouterr().out
    summary = out[out.index("Summary"):]
    assert "-20.0%" in summary  # 0.4 against 0.5
    assert "+100.0%" in summary  # the low-resource row
    assert "+12.5%" in summary  # the tagger row
    _print_summary(fake_docs, fake_low, fake_tokens)


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
