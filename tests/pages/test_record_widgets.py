"""Widget values restored from saved records keep the type their widget was drawn with."""

from __future__ import annotations

from datetime import date

from components.records import fit_widgets

LIKE = {
    "n": 1,
    "x": 0.5,
    "on": False,
    "text": "a",
    "tags": [],
    "day": date(2026, 1, 1),
    "pick": None,
}


def test_wrongly_typed_values_fall_back_to_the_widget_default():
    saved = {"n": "12", "x": [1], "on": 1, "text": 5, "tags": "ner", "day": "2026-02-02"}
    assert fit_widgets(saved, LIKE) == {k: LIKE[k] for k in saved}


def test_right_values_pass_and_whole_numbers_become_floats_where_a_float_is_expected():
    saved = {"n": 3, "x": 2, "on": True, "text": "b", "tags": ["ner"], "pick": "summarization"}
    assert fit_widgets(saved, LIKE) == {**saved, "x": 2.0}
    assert fit_widgets({"n": True}, LIKE) == {"n": 1}  # true is not a count
