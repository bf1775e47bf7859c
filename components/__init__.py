"""Streamlit-side building blocks shared by the pages."""
