"""The engine of the video playground: catalog, client, store, poller and simulator. No Streamlit here."""
