"""Neural Playground: streamlit run app.py"""
import streamlit as st

from playground.ui import about, draw_page, mnist_page, playground_2d

st.set_page_config(page_title="Neural Playground", page_icon="🧠", layout="wide")
st.navigation([
    st.Page(playground_2d.render, title="2D playground", icon="🎯", url_path="playground", default=True),
    st.Page(mnist_page.render, title="MNIST", icon="🔢", url_path="mnist"),
    st.Page(draw_page.render, title="Draw a digit", icon="✏️", url_path="draw"),
    st.Page(about.render, title="About", icon="📖", url_path="about"),
]).run()
