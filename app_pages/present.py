"""Present mode: the open project as one screen per stage, for a room (nothing here edits data)."""

from components.project import require_project
from components.report.present import render_controls, render_screen, screen_index
from components.resources import get_store
from lifecycle.deploy.measure import load_measurements
from lifecycle.overview import overview
from lifecycle.present import screens

project = require_project()
store = get_store()
ov = overview(store, project.id)
measured = load_measurements(store, project.id)
deck = screens(ov, measured)
index = screen_index(len(deck))
render_controls(index, len(deck))
render_screen(deck[index], ov, measured)
