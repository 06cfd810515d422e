"""Neural Playground: streamlit run app.py"""
from pathlib import Path

import streamlit as st

st.set_page_config(page_title="Neural Playground", page_icon=str(Path(__file__).parent / "playground/ui/icon.png"),
                   layout="wide")
st.navigation([
    st.Page("playground/ui/playground_2d.py", title="2D playground", icon=":material/scatter_plot:", default=True),
    st.Page("playground/ui/mnist_page.py", title="Images", icon=":material/grid_on:", url_path="images"),
    # the page's old address: links made before it showed other image sets
    st.Page("playground/ui/mnist_page.py", title="Images", icon=":material/grid_on:", url_path="mnist",
            visibility="hidden"),
    st.Page("playground/ui/draw_page.py", title="Draw a digit", icon=":material/draw:", url_path="draw"),
    st.Page("playground/ui/race_page.py", title="Race and compare", icon=":material/flag:", url_path="race"),
    st.Page("playground/ui/about.py", title="About", icon=":material/menu_book:", url_path="about"),
]).run()
