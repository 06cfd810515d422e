"""Exact behaviour of playground.digits on tiny hand-made images.

Error messages word for word, the size limits on both sides, the ink conversion (RGB weights,
0..255 scaling, alpha, polarity from the median of the four borders), the ink threshold and the
minimum number of ink pixels, the crop, the scaling to 20 px and the centring in 28x28.
Every expected value is worked out by hand in the test.
"""
import io
import re

import numpy as np
import pytest
from PIL import Image

from playground import config as cfg
from playground import digits
from playground.digits import EmptyDrawingError, ImageError

SIDE = cfg.MAX_IMAGE_SIDE
EMPTY = "the drawing is empty: draw a digit first"


def png_bytes(width, height) -> bytes:
    buffer = io.BytesIO()
    Image.new("L", (width, height)).save(buffer, "PNG")
    return buffer.getvalue()


def ink_column(height, width=2) -> np.ndarray:
    """A tall, narrow uint8 image: black with a white bar in its upper part."""
    image = np.zeros((height, width), np.uint8)
    image[10:110] = 255
    return image


def rectangle_canvas(value=1.0, dtype=np.float32) -> np.ndarray:
    """A 30x20 black canvas with a 20-row, 10-column rectangle of ink at rows 5..24, cols 5..14."""
    canvas = np.zeros((30, 20), dtype)
    canvas[5:25, 5:15] = value
    return canvas


def rectangle_in_28(top, left, height, width) -> np.ndarray:
    out = np.zeros((28, 28), np.float32)
    out[top:top + height, left:left + width] = 1.0
    return out


# ---------------------------------------------------------------- reading images and limits

def test_bytes_that_are_no_image_are_refused_with_the_exact_message():
    with pytest.raises(ImageError) as caught:
        digits.load_image(b"PK\x03\x04 definitely not an image")
    assert str(caught.value) == "not an image that can be read (PNG, JPEG, BMP, GIF...)"


def test_a_pil_image_exactly_at_the_side_limit_is_accepted():
    assert digits.load_image(Image.new("L", (SIDE, 1))).shape == (1, SIDE)
    assert digits.load_image(Image.new("L", (1, SIDE))).shape == (SIDE, 1)


def test_a_pil_image_wider_than_the_limit_is_refused_with_its_size_width_first():
    with pytest.raises(ImageError) as caught:
        digits.load_image(Image.new("L", (SIDE + 1, 3)))
    assert str(caught.value) == f"the image is {SIDE + 1}x3 pixels; at most {SIDE} per side is allowed"


def test_a_pil_image_taller_than_the_limit_is_refused_with_its_size_width_first():
    with pytest.raises(ImageError) as caught:
        digits.load_image(Image.new("L", (3, SIDE + 1)))
    assert str(caught.value) == f"the image is 3x{SIDE + 1} pixels; at most {SIDE} per side is allowed"


def test_png_bytes_exactly_at_the_side_limit_are_accepted_and_one_pixel_more_refused():
    assert digits.load_image(png_bytes(SIDE, 1)).shape == (1, SIDE)
    with pytest.raises(ImageError) as caught:      # the size, not "not an image that can be read"
        digits.load_image(png_bytes(SIDE + 1, 1))
    assert str(caught.value) == f"the image is {SIDE + 1}x1 pixels; at most {SIDE} per side is allowed"


def test_an_array_without_channels_is_refused_with_its_shape():
    with pytest.raises(ImageError) as caught:
        digits.to_mnist(np.zeros((5, 5, 0), np.uint8))
    assert str(caught.value) == "expected an image, got an array of shape (5, 5, 0)"


def test_an_array_exactly_at_the_side_limit_is_turned_into_a_digit():
    out = digits.to_mnist(ink_column(SIDE))
    assert out.shape == (28, 28) and out.dtype == np.float32


@pytest.mark.parametrize("shape", [(SIDE + 1, 2), (2, SIDE + 1)])
def test_an_array_larger_than_the_limit_is_refused_with_the_exact_message(shape):
    with pytest.raises(ImageError) as caught:
        digits.to_mnist(np.zeros(shape, np.uint8))
    assert str(caught.value) == f"the image is larger than {SIDE} pixels per side"


def test_an_rgb_pil_image_is_read_as_8_bit_gray():
    # PIL's L = R*299/1000 + G*587/1000 + B*114/1000 = 2.99 + 117.4 + 3.42 = 123.81 -> 124
    array = digits.load_image(Image.new("RGB", (2, 1), (10, 200, 30)))
    assert array.dtype == np.uint8
    assert array.tolist() == [[124, 124]]


def test_an_rgba_pil_image_keeps_its_four_channels():
    array = digits.load_image(Image.new("RGBA", (2, 1), (10, 200, 30, 40)))
    assert array.tolist() == [[[10, 200, 30, 40], [10, 200, 30, 40]]]


def test_a_gray_image_with_alpha_is_read_as_rgba():
    array = digits.load_image(Image.new("LA", (1, 1), (50, 128)))
    assert array.tolist() == [[[50, 50, 50, 128]]]


@pytest.mark.parametrize("array, shape_text", [
    (np.zeros(5), "(5,)"),
    (np.zeros((0, 5)), "(0, 5)"),
    (np.zeros((5, 0, 3)), "(5, 0, 3)"),
    (np.zeros((2, 2, 2, 2)), "(2, 2, 2, 2)"),
])
def test_an_array_that_is_no_image_is_refused_with_its_shape(array, shape_text):
    with pytest.raises(ImageError) as caught:
        digits.to_mnist(array)
    assert str(caught.value) == f"expected an image, got an array of shape {shape_text}"


@pytest.mark.parametrize("shape, ink_at", [((10, 1), np.s_[2:8, :]), ((1, 10), np.s_[:, 2:8])])
def test_a_drawing_one_pixel_thin_is_accepted(shape, ink_at):
    image = np.zeros(shape, np.float32)
    image[ink_at] = 1.0
    out = digits.to_mnist(image)
    assert out.shape == (28, 28) and out.dtype == np.float32
    assert out.max() == pytest.approx(1.0, abs=0.01)


# ---------------------------------------------------------------- ink conversion

def test_a_transparent_background_takes_the_ink_from_alpha():
    rgba = np.zeros((2, 2, 4), np.uint8)
    rgba[..., :3] = 200                      # the colour is ignored
    rgba[..., 3] = [[0, 255], [51, 102]]
    strokes = digits.ink(rgba)
    assert strokes.dtype == np.float32
    np.testing.assert_array_equal(strokes, np.array([[0.0, 1.0], [0.2, 0.4]], np.float32))


def test_alpha_of_exactly_one_half_counts_as_opaque_so_the_colour_is_used():
    rgba = np.zeros((3, 3, 4), np.float32)
    rgba[1, 1, :3] = 255.0
    rgba[..., 3] = 127.5                     # 127.5 / 255 == 0.5 exactly
    expected = np.zeros((3, 3), np.float32)
    expected[1, 1] = 1.0
    np.testing.assert_array_equal(digits.ink(rgba), expected)


def test_an_opaque_rgba_uses_the_colour():
    rgba = np.zeros((3, 3, 4), np.uint8)
    rgba[..., 3] = 255
    rgba[1, 1, :3] = [255, 0, 0]
    expected = np.zeros((3, 3), np.float32)
    expected[1, 1] = 0.299
    np.testing.assert_allclose(digits.ink(rgba), expected, rtol=1e-6)


def test_rgb_is_weighted_0_299_0_587_0_114():
    rgb = np.array([[[255, 0, 0], [0, 255, 0]],
                    [[0, 0, 255], [10, 200, 30]]], np.uint8)
    # (0.299*10 + 0.587*200 + 0.114*30) / 255 = 123.81 / 255; border median ~0.39: not inverted
    expected = np.array([[0.299, 0.587], [0.114, 123.81 / 255]], np.float32)
    strokes = digits.ink(rgb)
    assert strokes.dtype == np.float32
    np.testing.assert_allclose(strokes, expected, rtol=1e-6)


def test_8_bit_gray_is_scaled_by_255():
    gray = np.zeros((3, 3), np.uint8)
    gray[1, 1], gray[1, 2] = 255, 51
    expected = np.zeros((3, 3), np.float32)
    expected[1, 1], expected[1, 2] = 1.0, 0.2
    strokes = digits.ink(gray)
    assert strokes.dtype == np.float32
    np.testing.assert_allclose(strokes, expected, rtol=1e-6)


def test_a_very_faint_8_bit_image_is_still_scaled_by_255():
    gray = np.zeros((3, 3), np.uint8)
    gray[1, 1] = 2
    expected = np.zeros((3, 3), np.float32)
    expected[1, 1] = 2 / 255
    np.testing.assert_allclose(digits.ink(gray), expected, rtol=1e-6)


def test_a_float_image_already_in_0_to_1_is_not_rescaled():
    gray = np.zeros((3, 3), np.float32)
    gray[1, 1], gray[0, 2] = 1.0, 0.25
    np.testing.assert_array_equal(digits.ink(gray), gray)


# 11 of the 20 border samples (corners count twice) are white, 5 of them in the top row; the row
# under it is black. Reading any other line instead of the top row leaves at most 10 white
# samples, and the polarity flips. The other three arrays are the same picture turned round.
TOP_WHITE = np.array([[1, 1, 1, 1, 1],
                      [0, 0, 0, 0, 0],
                      [1, 0, 0, 0, 1],
                      [1, 0, 0, 0, 1],
                      [0, 0, 0, 0, 0]], np.float32)


@pytest.mark.parametrize("image", [TOP_WHITE, np.flipud(TOP_WHITE), TOP_WHITE.T, np.fliplr(TOP_WHITE.T)],
                         ids=["top", "bottom", "left", "right"])
def test_polarity_is_decided_by_the_median_of_all_four_borders(image):
    np.testing.assert_array_equal(digits.ink(image), 1.0 - image)
    assert digits.ink(image).dtype == np.float32


def test_a_border_median_of_exactly_one_half_keeps_the_polarity():
    gray = np.full((3, 3), 0.5, np.float32)
    gray[1, 1] = 1.0
    np.testing.assert_array_equal(digits.ink(gray), gray)


# ---------------------------------------------------------------- threshold and minimum ink

def four_pixel_canvas(fourth=1.0) -> np.ndarray:
    canvas = np.zeros((6, 6), np.float32)
    canvas[2, 2] = canvas[2, 3] = canvas[3, 2] = 1.0
    canvas[3, 3] = fourth
    return canvas


def test_exactly_four_ink_pixels_make_a_drawing():
    out = digits.to_mnist(four_pixel_canvas())
    assert out.shape == (28, 28) and out.dtype == np.float32


def test_three_ink_pixels_are_refused_as_empty_with_the_exact_message():
    with pytest.raises(EmptyDrawingError) as caught:
        digits.to_mnist(four_pixel_canvas(fourth=0.0))
    assert str(caught.value) == EMPTY


def test_a_pixel_exactly_at_the_ink_threshold_is_background():
    # peak 1.0 -> threshold 1.0 * INK_THRESHOLD = 0.1: a pixel of 0.1 is not ink, so only 3 remain
    with pytest.raises(EmptyDrawingError, match=re.escape(EMPTY)):
        digits.to_mnist(four_pixel_canvas(fourth=0.1))


def test_a_pixel_just_above_the_ink_threshold_is_ink():
    assert digits.to_mnist(four_pixel_canvas(fourth=0.11)).shape == (28, 28)


def test_a_drawing_fainter_than_0_1_is_refused_however_many_pixels_it_has():
    faint = np.zeros((6, 6), np.float32)
    faint[1:5, 1:5] = 0.09
    with pytest.raises(EmptyDrawingError, match=re.escape(EMPTY)):
        digits.to_mnist(faint)


# ---------------------------------------------------------------- crop, scale, centre

@pytest.mark.parametrize("transpose", [False, True], ids=["tall", "wide"])
def test_the_crop_is_exactly_the_ink_so_a_20_by_10_rectangle_is_pasted_unscaled(transpose):
    # The crop is 20x10, so scaling keeps it as it is; its centre of mass (9.5, 4.5) goes to
    # (13.5, 13.5): top 4, left 9. A crop one pixel off along the long side would be resampled
    # (an extra empty line along the short side would not show, hence both orientations).
    canvas, expected = rectangle_canvas(), rectangle_in_28(4, 9, 20, 10)
    if transpose:
        canvas, expected = canvas.T, expected.T
    out = digits.to_mnist(canvas)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, expected)


def test_a_faint_drawing_is_stretched_to_full_brightness():
    # 153 / 255 = 0.6: the crop is divided by the peak, 0.6, which gives exactly 1
    out = digits.to_mnist(rectangle_canvas(153, np.uint8))
    np.testing.assert_array_equal(out, rectangle_in_28(4, 9, 20, 10))


@pytest.mark.parametrize("shape, expected", [((10, 40), (5, 20)), ((40, 10), (20, 5)),
                                             ((41, 1), (20, 1)), ((1, 41), (1, 20)),
                                             ((20, 20), (20, 20)), ((3, 4), (15, 20))])
def test_fit_20_makes_the_longer_side_20_and_keeps_at_least_one_pixel(shape, expected):
    small = digits._fit_20(np.ones(shape, np.float32))
    assert small.shape == expected and small.dtype == np.float32


def test_fit_20_resamples_8_bit_values_with_lanczos():
    crop = np.array([[0.0, 0.5, 1.0, 0.5, 0.0, 0.0],
                     [0.0, 1.0, 1.0, 1.0, 0.5, 0.0],
                     [0.5, 1.0, 0.0, 1.0, 1.0, 0.0],
                     [0.0, 0.5, 1.0, 0.5, 0.0, 0.0]], np.float32)
    # written out with PIL: 8-bit (0.5 -> 127), 20/6 -> 20 wide and round(4 * 20/6) = 13 high
    eight_bit = Image.fromarray(np.array(crop * 255, np.uint8))
    expected = np.asarray(eight_bit.resize((20, 13), Image.LANCZOS), np.float32) / 255.0
    small = digits._fit_20(crop)
    assert small.dtype == np.float32
    np.testing.assert_array_equal(small, expected)


@pytest.mark.parametrize("shape, top, left", [((20, 10), 4, 9), ((10, 20), 9, 4), ((6, 4), 11, 12)])
def test_centre_puts_the_centre_of_mass_on_13_5(shape, top, left):
    # a uniform block of h x w has its centre of mass at ((h-1)/2, (w-1)/2): top = 13.5 - (h-1)/2
    out = digits._centre(np.ones(shape, np.float32))
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, rectangle_in_28(top, left, *shape))
    ys, xs = np.indices(out.shape)
    assert (ys * out).sum() / out.sum() == pytest.approx(13.5, abs=0.5)
    assert (xs * out).sum() / out.sum() == pytest.approx(13.5, abs=0.5)


def test_centre_of_an_all_zero_digit_is_an_empty_28x28():
    with np.errstate(invalid="ignore", divide="ignore"):
        out = digits._centre(np.zeros((5, 20), np.float32))
    assert out.shape == (28, 28) and out.dtype == np.float32 and not out.any()


def line_digit(row=None, col=None) -> np.ndarray:
    if row is not None:
        digit = np.zeros((20, 4), np.float32)
        digit[row] = 1.0
    else:
        digit = np.zeros((4, 20), np.float32)
        digit[:, col] = 1.0
    return digit


def test_centre_clips_a_digit_heavy_at_its_bottom_to_the_top_edge():
    # mass on row 19 wants top = -6: clipped to 0, so the line lands on row 19
    out = digits._centre(line_digit(row=19))
    expected = np.zeros((28, 28), np.float32)
    expected[19, 12:16] = 1.0
    np.testing.assert_array_equal(out, expected)


def test_centre_clips_a_digit_heavy_at_its_top_to_the_bottom_edge():
    # mass on row 0 wants top = 14: clipped to 28 - 20 = 8
    out = digits._centre(line_digit(row=0))
    expected = np.zeros((28, 28), np.float32)
    expected[8, 12:16] = 1.0
    np.testing.assert_array_equal(out, expected)


def test_centre_clips_a_digit_heavy_at_its_right_to_the_left_edge():
    out = digits._centre(line_digit(col=19))
    expected = np.zeros((28, 28), np.float32)
    expected[12:16, 19] = 1.0
    np.testing.assert_array_equal(out, expected)


def test_centre_clips_a_digit_heavy_at_its_left_to_the_right_edge():
    out = digits._centre(line_digit(col=0))
    expected = np.zeros((28, 28), np.float32)
    expected[12:16, 8] = 1.0
    np.testing.assert_array_equal(out, expected)


def test_centre_clips_values_to_0_1():
    out = digits._centre(np.array([[1.5, 1.0], [1.0, -0.5]], np.float32))
    assert out.dtype == np.float32
    assert out.min() == 0.0 and out.max() == 1.0 and out.sum() == 3.0
