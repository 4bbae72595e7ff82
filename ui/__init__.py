"""The Streamlit editor (a later issue builds it); its pages call `service`, never the store."""
