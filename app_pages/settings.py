"""Settings: the runtime choices of this machine, each with a line that says whether it works."""

import streamlit as st

from components.settings.endpoints import endpoints_section
from components.settings.places import folder_section, hub_section, vector_section
from components.settings.ui import runtimes_section, server_section

st.title("Settings")
st.caption(
    "Saved in the data folder's settings.json (never an API key) and shared by every project. "
    "Each section checks what it configures and says whether it works right now."
)

runtimes_section()
st.divider()
server_section()
st.divider()
endpoints_section()
st.divider()
folder_section()
st.divider()
hub_section()
st.divider()
vector_section()
