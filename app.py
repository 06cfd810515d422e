"""Neural Playground: streamlit run app.py"""
import streamlit as st

st.set_page_config(page_title="Neural Playground", page_icon="🧠", layout="wide")
st.navigation([
    st.Page("playground/ui/playground_2d.py", title="2D playground", icon="🎯", url_path="playground", default=True),
    st.Page("playground/ui/mnist_page.py", title="MNIST", icon="🔢", url_path="mnist"),
    st.Page("playground/ui/draw_page.py", title="Draw a digit", icon="✏️", url_path="draw"),
    st.Page("playground/ui/about.py", title="About", icon="📖", url_path="about"),
]).run()
