"""Exact behaviour of the datasets package: toy geometry and noise scales worked out by hand, the CSV
text of your own points, label limits and messages of the image sets, read-only arrays, and the
download helper (its temporary file, its messages, the arguments it passes on)."""
import gzip
import hashlib
import io
import logging
import re
import tarfile

import numpy as np
import pytest
from test_image_sets import cifar_files, cifar_members, cifar_record, tar_gz
from test_mnist import fake_files, idx_bytes, write_files

import datasets
from datasets import cifar10, fashion_mnist, mnist, toy
from datasets import points as pts
from datasets.cifar10 import Cifar10Error
from datasets.fashion_mnist import FashionMnistError
from datasets.mnist import MnistError
from playground import config as cfg
from playground.config import ConfigError


@pytest.fixture
def away_from_data(tmp_path, monkeypatch):
    """No image set anywhere: $PLAYGROUND_DATA_DIR and the cache are empty folders under tmp_path."""
    monkeypatch.setenv("PLAYGROUND_DATA_DIR", str(tmp_path / "env"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path


# ------------------------------------------------------------------ toy generators
def test_spiral_points_lie_on_their_arm():
    data = toy.spiral(400, 0.0, 3)
    r = np.hypot(data.x[:, 0], data.x[:, 1]).astype(np.float64)
    assert 0.05 - 1e-6 <= r.min() and r.max() <= 1.0 + 1e-6
    # radius 0.05 + 0.95 t, angle 1.75 turns * t, the second arm turned by pi
    t = (r - 0.05) / 0.95
    angle = 1.75 * 2 * np.pi * t + np.pi * data.y
    np.testing.assert_allclose(data.x, np.stack([r * np.sin(angle), r * np.cos(angle)], 1), atol=2e-5)


def test_spiral_radius_and_angle_follow_the_seeded_positions():
    t = np.random.default_rng(11).uniform(0, 1, 10)     # the first draw of the generator
    y = np.array([0] * 5 + [1] * 5)
    radius, angle = 0.05 + 0.95 * t, 3.5 * np.pi * t + np.pi * y
    data = toy.spiral(10, 0.0, 11)
    np.testing.assert_allclose(data.x, np.stack([radius * np.sin(angle), radius * np.cos(angle)], 1), atol=1e-6)
    assert data.name == "spiral" and data.task == "binary" and data.n_classes == 2


def test_spiral_noise_is_a_tenth_of_the_noise_setting():
    clean, noisy = toy.spiral(4000, 0.0, 5), toy.spiral(4000, 0.5, 5)
    moved = (noisy.x - clean.x).astype(np.float64)
    assert np.std(moved, 0) == pytest.approx([0.05, 0.05], rel=0.05)


def test_gauss_blobs_sit_around_their_centres_with_the_documented_spread():
    z = np.random.default_rng(4).standard_normal((10, 2))
    centre = np.array([[-0.45]] * 5 + [[0.45]] * 5)
    data = toy.gauss(10, 0.5, 4)
    np.testing.assert_allclose(data.x, centre + (0.12 + 0.35 * 0.5) * z, atol=1e-6)
    assert data.y.tolist() == [0] * 5 + [1] * 5
    assert data.name == "gauss" and data.task == "binary" and data.n_classes == 2


def test_clean_gauss_is_clipped_to_the_square_on_both_ends():
    # seed 783 has one class-0 draw below -1 and one class-1 draw above 1 (found once, offline)
    z = np.random.default_rng(783).standard_normal((20000, 2))
    centre = np.where(np.arange(20000)[:, None] >= 10000, 0.45, -0.45)
    raw = centre + 0.12 * z
    data = toy.gauss(20000, 0.0, 783)
    assert data.x[7515, 0] == -1.0 and data.x[10482, 1] == 1.0
    assert raw[7515, 0] < -1 and raw[10482, 1] > 1
    np.testing.assert_allclose(data.x, np.clip(raw, -1, 1), atol=1e-6)


def test_noisy_gauss_is_not_clipped():
    z = np.random.default_rng(783).standard_normal((20000, 2))
    centre = np.where(np.arange(20000)[:, None] >= 10000, 0.45, -0.45)
    data = toy.gauss(20000, 1.0, 783)
    np.testing.assert_allclose(data.x, centre + 0.47 * z, atol=1e-5)
    assert data.x.min() < -1 and data.x.max() > 1


def test_quadrant_labels_name_the_quadrant_of_each_clean_point():
    data = toy.quadrants(400, 0.0, 2)
    x1, x2 = data.x[:, 0], data.x[:, 1]
    expected = np.where(x2 > 0, np.where(x1 > 0, 0, 1), np.where(x1 > 0, 3, 2))
    assert data.y.tolist() == expected.tolist()
    assert data.name == "quadrants" and data.task == "multiclass" and data.n_classes == 4
    assert data.x.dtype == np.float32 and data.y.dtype == np.int64


def test_quadrant_noise_is_a_quarter_of_the_setting_and_differs_per_point():
    clean, noisy = toy.quadrants(4000, 0.0, 6), toy.quadrants(4000, 0.8, 6)
    moved = (noisy.x - clean.x).astype(np.float64)
    assert np.std(moved, 0) == pytest.approx([0.2, 0.2], rel=0.05)
    assert np.array_equal(noisy.y, clean.y)    # labels come from the clean points


def test_xor_noise_is_a_quarter_of_the_setting():
    clean, noisy = toy.xor(4000, 0.0, 6), toy.xor(4000, 0.4, 6)
    assert np.std((noisy.x - clean.x).astype(np.float64), 0) == pytest.approx([0.1, 0.1], rel=0.05)
    assert noisy.name == "xor" and noisy.task == "binary" and noisy.n_classes == 2


def test_circle_noise_is_a_fifth_of_the_setting_and_radii_are_in_their_bands():
    clean, noisy = toy.circle(4000, 0.0, 6), toy.circle(4000, 0.5, 6)
    assert np.std((noisy.x - clean.x).astype(np.float64), 0) == pytest.approx([0.1, 0.1], rel=0.05)
    r = np.hypot(clean.x[:, 0], clean.x[:, 1])
    assert r[clean.y == 1].max() <= 0.5 and r[clean.y == 1].max() > 0.45
    assert r[clean.y == 0].min() >= 0.7 - 1e-6 and r[clean.y == 0].min() < 0.75 and r.max() <= 1 + 1e-6
    assert clean.name == "circle" and clean.task == "binary"


def test_prod_noise_is_a_fifth_of_the_setting():
    data = toy.prod(4000, 0.5, 6)
    moved = data.y.astype(np.float64) - data.x[:, 0].astype(np.float64) * data.x[:, 1]
    assert np.std(moved) == pytest.approx(0.1, rel=0.05)
    assert data.name == "prod" and data.task == "regression" and data.n_classes == 1


def off_axes(u):
    """TF Playground's rule, written out: coordinates nearer than 0.05 to an axis are pushed 0.05 away."""
    return u + np.sign(u) * 0.05 * (np.abs(u) < 0.05)


def seeded_xor(rng, n, noise):
    p = off_axes(rng.uniform(-1, 1, (n, 2)))
    return p + 0.25 * noise * rng.standard_normal((n, 2)), (p[:, 0] * p[:, 1] > 0).astype(int)


def seeded_quadrants(rng, n, noise):
    p = off_axes(rng.uniform(-1, 1, (n, 2)))
    y = [{(True, True): 0, (False, True): 1, (False, False): 2, (True, False): 3}[(a > 0, b > 0)] for a, b in p]
    return p + 0.25 * noise * rng.standard_normal((n, 2)), np.array(y)


def seeded_prod(rng, n, noise):
    p = rng.uniform(-1, 1, (n, 2))
    return p, p[:, 0] * p[:, 1] + 0.2 * noise * rng.standard_normal(n)


def seeded_circle(rng, n, noise):
    y = (np.arange(n) >= (n + 1) // 2).astype(int)
    inner, outer = rng.uniform(0, 0.5, n), rng.uniform(0.7, 1.0, n)
    r, a = np.where(y == 1, inner, outer), rng.uniform(0, 2 * np.pi, n)
    return np.stack([r * np.cos(a), r * np.sin(a)], 1) + 0.2 * noise * rng.standard_normal((n, 2)), y


def seeded_gauss(rng, n, noise):
    y = (np.arange(n) >= (n + 1) // 2).astype(int)
    return np.where(y[:, None] == 1, 0.45, -0.45) + (0.12 + 0.35 * noise) * rng.standard_normal((n, 2)), y


def seeded_spiral(rng, n, noise):
    y = (np.arange(n) >= (n + 1) // 2).astype(int)
    t = rng.uniform(0, 1, n)
    r, a = 0.05 + 0.95 * t, 3.5 * np.pi * t + np.pi * y
    return np.stack([r * np.sin(a), r * np.cos(a)], 1) + 0.1 * noise * rng.standard_normal((n, 2)), y


@pytest.mark.parametrize("name, expected", [
    ("xor", seeded_xor), ("quadrants", seeded_quadrants), ("prod", seeded_prod),
    ("circle", seeded_circle), ("gauss", seeded_gauss), ("spiral", seeded_spiral)])
def test_each_generator_gives_exactly_its_seeded_draws(name, expected):
    # the same seed must give the same data (saved runs replay it): the draws, in order, written out
    x, y = expected(np.random.default_rng(21), 9, 0.6)
    data = toy.GENERATORS[name](9, 0.6, 21)
    np.testing.assert_allclose(data.x, x, atol=1e-6)
    np.testing.assert_allclose(data.y, y, atol=1e-6)
    assert data.name == name


def test_extra_features_are_the_products_and_sines_of_the_inputs():
    x = np.array([[2.0, 3.0], [-0.5, 0.25]], np.float32)
    out = toy.add_features(x, ("sin_x2", "x1x2", "x2sq", "x1sq", "sin_x1"))
    np.testing.assert_allclose(out, [[2, 3, 4, 9, 6, np.sin(2), np.sin(3)],
                                     [-0.5, 0.25, 0.25, 0.0625, -0.125, np.sin(-0.5), np.sin(0.25)]], rtol=1e-6)
    assert toy.add_features(x, ()) is x


def test_an_unknown_extra_feature_is_refused_with_the_choices():
    with pytest.raises(ConfigError) as info:
        toy.add_features(np.zeros((3, 2)), ("x1sq", "cos_x1", "cube"))
    assert str(info.value) == "unknown extra feature 'cos_x1'; choose from x1sq, x2sq, x1x2, sin_x1, sin_x2"


def test_an_unknown_toy_set_is_refused_with_the_choices():
    with pytest.raises(ConfigError) as info:
        toy.make_split("moons", 100, 0, 0.5, 0)
    assert str(info.value) == 'dataset must be one of xor, quadrants, prod, circle, gauss, spiral; got "moons"'


@pytest.mark.parametrize("n_points", [1, 20_001])
def test_a_point_count_outside_two_to_twenty_thousand_is_refused(n_points):
    with pytest.raises(ConfigError) as info:
        toy.make_split("xor", n_points, 0, 0.5, 0)
    assert str(info.value) == f"points must be from 2 to 20,000, got {n_points}"


@pytest.mark.parametrize("noise, shown", [(-0.01, "-0.01"), (1.5, "1.5")])
def test_noise_outside_zero_to_one_is_refused(noise, shown):
    with pytest.raises(ConfigError) as info:
        toy.make_split("xor", 100, noise, 0.5, 0)
    assert str(info.value) == f"noise must be from 0 to 1, got {shown}"


@pytest.mark.parametrize("n_points, noise", [(2, 0.0), (20_000, 1.0)])
def test_the_limits_of_points_and_noise_are_accepted(n_points, noise):
    split = toy.make_split("xor", n_points, noise, 0.5, 0)
    assert len(split.train) + len(split.test) == n_points


def test_the_split_holds_out_the_points_a_seed_plus_one_shuffle_picks():
    data = toy.circle(10, 0.2, 8)
    order = np.random.default_rng(9).permutation(10)     # seed 8 + 1
    split = toy.make_split("circle", 10, 0.2, 0.3, 8, ("x1x2",))
    assert np.array_equal(split.test.x[:, :2], data.x[order[:3]])
    assert np.array_equal(split.train.y, data.y[order[3:]])
    np.testing.assert_allclose(split.test.x[:, 2], data.x[order[:3], 0] * data.x[order[:3], 1], rtol=1e-6)
    for part in (split.train, split.test):
        assert part.name == "circle" and part.task == "binary" and part.n_classes == 2


# ------------------------------------------------------------------ your own points
def test_regression_points_are_written_with_a_target_header_and_short_numbers():
    points = pts.Points(np.array([[1.0, -0.5], [0.1, 0.0]], np.float32), np.array([0.25, 3.0], np.float32),
                        "regression")
    assert points.to_csv() == "x1,x2,target\n1,-0.5,0.25\n0.1,0,3\n"


def test_class_points_are_written_with_a_label_header():
    points = pts.Points(np.array([[-1.0, 0.5]], np.float32), np.array([2], np.int64), "classes")
    assert points.to_csv() == "x1,x2,label\n-1,0.5,2\n"


@pytest.mark.parametrize("task, dtype", [("classes", np.int64), ("regression", np.float32)])
def test_empty_points_have_no_rows_and_the_dtype_of_their_task(task, dtype):
    points = pts.empty(task)
    assert points.x.shape == (0, 2) and points.x.dtype == np.float32
    assert points.y.shape == (0,) and points.y.dtype == dtype and points.task == task and len(points) == 0


def test_empty_points_are_classes_by_default():
    points = pts.empty()
    assert points.task == "classes" and points.y.dtype == np.int64 and points.to_csv() == "x1,x2,label\n"


def ten_points(labels="0,1,0,1,0,1,0,1,0,1"):
    return "".join(f"{i},{i * i},{v}\n" for i, v in enumerate(labels.split(",")))


def test_adding_a_point_keeps_the_dtype_of_the_task():
    classes = pts.add(pts.empty("classes"), 0.5, -0.25, 3)
    assert classes.y.dtype == np.int64 and classes.y.tolist() == [3] and classes.x.tolist() == [[0.5, -0.25]]
    targets = pts.add(pts.empty("regression"), 0.5, -0.25, 0.125)
    assert targets.y.dtype == np.float32 and targets.y.tolist() == [0.125] and targets.x.dtype == np.float32


def test_the_twenty_thousandth_point_can_be_added_but_no_more():
    many = pts.Points(np.zeros((19_999, 2), np.float32), np.zeros(19_999, np.int64), "classes")
    full = pts.add(many, 0.1, 0.2, 1)
    assert len(full) == 20_000
    with pytest.raises(pts.PointsError) as info:
        pts.add(full, 0.1, 0.2, 1)
    assert str(info.value) == "there are already 20,000 points, the most allowed"


@pytest.mark.parametrize("x1, x2, value", [(np.nan, 0, 0), (0, np.inf, 0), (0, 0, -np.inf)])
def test_a_point_that_is_not_finite_is_refused(x1, x2, value):
    with pytest.raises(pts.PointsError) as info:
        pts.add(pts.empty("regression"), x1, x2, value)
    assert str(info.value) == "a point needs finite coordinates and a finite value"


@pytest.mark.parametrize("value", [-1, 10, 1.5])
def test_a_clicked_class_outside_zero_to_nine_is_refused(value):
    with pytest.raises(pts.PointsError) as info:
        pts.add(pts.empty(), 0, 0, value)
    assert str(info.value) == f"a class is a whole number from 0 to 9, got {value:g}"


def test_a_file_of_exactly_two_megabytes_is_read():
    text = ten_points().encode()
    padding = 2_000_000 - len(text)     # blank lines of spaces, which are skipped
    points = pts.parse_csv(text + (b" " * 99_999 + b"\n") * (padding // 100_000) + b"\n" * (padding % 100_000))
    assert len(points) == 10


@pytest.mark.parametrize("size, shown", [(2_000_001, "2.0"), (2_950_001, "3.0")])
def test_a_file_over_two_megabytes_is_refused_with_its_size(size, shown):
    with pytest.raises(pts.PointsError) as info:
        pts.parse_csv(b"\n" * size)
    assert str(info.value) == f"the file is {shown} MB; at most 2 MB (20,000 points) are allowed"


def test_a_file_that_is_not_utf8_is_refused():
    with pytest.raises(pts.PointsError) as info:
        pts.parse_csv(b"\xff\xfe1,2,0\n")
    assert str(info.value) == "the file is not a text (CSV) file in UTF-8"


def test_twenty_thousand_points_are_read_and_one_more_is_refused():
    rows = "".join(f"{i},{i % 7},{i % 2}\n" for i in range(20_000))
    assert len(pts.parse_csv(rows)) == 20_000
    with pytest.raises(pts.PointsError) as info:
        pts.parse_csv(rows + "1,1,1\n")
    assert str(info.value) == "the file has 20,001 points; at most 20,000 are allowed"


LONG_HEADER = "x1,x2," + "y" * 70
MISSING = "and each point needs three: x1, x2 and a label (or target)"


@pytest.mark.parametrize("text, message", [
    ("", "the file is empty: write one point per line, as x1,x2,label"),
    (" , \n", "the file is empty: write one point per line, as x1,x2,label"),
    ("x1,x2,label\n", "the file has a header but no points"),
    ("a,b,label\n1,2,0\n", "line 1: the header should be x1,x2,label (classes) or x1,x2,target "
                            "(regression); got a,b,label"),
    ("x1,x2,value\n1,2,0\n", "line 1: the header should be x1,x2,label (classes) or x1,x2,target "
                              "(regression); got x1,x2,value"),
    (LONG_HEADER + "\n1,2,0\n", "line 1: the header should be x1,x2,label (classes) or x1,x2,target "
                                 f"(regression); got {LONG_HEADER[:60]}"),
    ("1,2\n3,4\n", f"line 1 is missing a column: it has 2, {MISSING}"),
    ("1,2,0\n3,4,1,9\n", f"line 2 has extra columns: it has 4, {MISSING}"),
    ("1,2,0\n3,4, abc \n", "line 2: the label/target is 'abc', which is not a number"),
    ("1,2,0\n" + "a" * 25 + ",4,1\n", f"line 2: x1 is {'a' * 20!r}, which is not a number"),
    ("1,2,0\n3, nan ,1\n", "line 2: x2 is nan; every value must be a finite number"),
    ("x1,x2,label\n1,2,0\n3,4,1.5\n", "line 3: the label 1.5 is not a class number; classes are 0, 1, 2 ... "
                                       "(use the header x1,x2,target for regression)"),
    ("x1,x2,label\n1,2,0\n\n3,4,-2\n", "line 4: the label -2 is not a class number; classes are 0, 1, 2 ... "
                                        "(use the header x1,x2,target for regression)"),
    (ten_points("3,3,3,3,3,3,3,3,3,3"), "every point has label 3: a classifier needs at least two classes"),
    (ten_points("0,2,0,2,3,0,2,0,2,0"), "labels must be 0 to k-1 with none skipped: no point has label 1 "
                                        "(found 0, 2, 3)"),
    (ten_points("0,1,3,0,1,3,0,1,3,0"), "labels must be 0 to k-1 with none skipped: no point has label 2 "
                                        "(found 0, 1, 3)"),
    (ten_points("0,1,2,3,4,5,6,7,8,10"), "label 10 is too big: at most 10 classes, 0 to 9"),
    ("".join(f"{i},{i},{i % 2}\n" for i in range(9)), "there are 9 points; at least 10 are needed "
                                                      "(some train the network, the rest test it)"),
    ("".join(f"5,5,{i % 2}\n" for i in range(10)), "all points are at the same place: they need to spread out"),
])
def test_each_bad_file_gets_its_exact_message(text, message):
    with pytest.raises(pts.PointsError) as info:
        pts.parse_csv(text)
    assert str(info.value) == message


def test_ten_classes_zero_to_nine_are_read():
    points = pts.parse_csv(ten_points("0,1,2,3,4,5,6,7,8,9"))
    assert points.y.tolist() == list(range(10)) and points.n_classes == 10 and points.task == "classes"


def test_an_axis_with_one_value_is_put_on_zero_and_the_other_fills_the_square():
    points = pts.parse_csv("".join(f"{i},7,{i % 2}\n" for i in range(11)))
    np.testing.assert_allclose(points.x[:, 1], 0)
    np.testing.assert_allclose(points.x[:, 0], np.arange(11) / 5 - 1, atol=1e-6)


def test_an_axis_spanning_less_than_one_is_stretched_to_fill_the_square():
    points = pts.parse_csv("".join(f"{i / 10},{i * 3},{i % 2}\n" for i in range(11)))
    np.testing.assert_allclose(points.x, np.stack([np.arange(11) / 5 - 1] * 2, 1), atol=1e-6)


def test_regression_points_split_into_a_regression_task():
    points = pts.parse_csv("x1,x2,target\n" + "".join(f"{i},{i % 3},{i * 0.5}\n" for i in range(12)))
    split = pts.make_split(points, 0.25, 4, ("x2sq",))
    order = np.random.default_rng(5).permutation(12)     # seed 4 + 1
    assert np.array_equal(split.test.y, points.y[order[:3]]) and np.array_equal(split.train.y, points.y[order[3:]])
    np.testing.assert_allclose(split.train.x[:, 2], points.x[order[3:], 1] ** 2, rtol=1e-6)
    for part in (split.train, split.test):
        assert part.name == "custom_regression" and part.task == "regression" and part.n_classes == 1
    assert split.source == "your points: 12, targets"


def test_class_points_split_into_a_multiclass_task():
    points = pts.parse_csv(ten_points("0,1,2,0,1,2,0,1,2,0"))
    split = pts.make_split(points, 0.5, 0)
    for part in (split.train, split.test):
        assert part.name == "custom" and part.task == "multiclass" and part.n_classes == 3
    assert split.source == "your points: 10, 3 classes" and len(split.test) == 5


# ------------------------------------------------------------------ MNIST reading
def mnist_folder(folder, train_labels=None, test_labels=None):
    files = fake_files()
    if train_labels is not None:
        files["train-labels-idx1-ubyte.gz"] = gzip.compress(idx_bytes(np.array(train_labels)))
    if test_labels is not None:
        files["t10k-labels-idx1-ubyte.gz"] = gzip.compress(idx_bytes(np.array(test_labels)))
    return write_files(folder, files)


def test_an_mnist_label_of_nine_is_accepted(tmp_path):
    split = mnist.read_dir(mnist_folder(tmp_path, train_labels=[9] * 20, test_labels=[9] * 10))
    assert split.train.y.tolist() == [9] * 20 and split.test.y.tolist() == [9] * 10


def test_an_mnist_training_label_of_ten_is_refused_with_its_value(tmp_path):
    with pytest.raises(MnistError) as info:
        mnist.read_dir(mnist_folder(tmp_path, train_labels=[0] * 19 + [10]))
    assert str(info.value) == "MNIST training labels must be classes 0-9, found 10"


def test_an_mnist_test_label_of_ten_is_refused_with_its_value(tmp_path):
    with pytest.raises(MnistError) as info:
        mnist.read_dir(mnist_folder(tmp_path, test_labels=[10] + [0] * 9))
    assert str(info.value) == "MNIST test labels must be classes 0-9, found 10"


def test_mnist_labels_of_the_wrong_count_are_refused(tmp_path):
    with pytest.raises(MnistError) as info:
        mnist.read_dir(mnist_folder(tmp_path, test_labels=[0] * 9))
    assert str(info.value) == "MNIST test set: 10 images but labels of shape (9,)"


def test_mnist_arrays_are_read_only_and_scaled(tmp_path):
    files = fake_files()
    split = mnist.read_dir(write_files(tmp_path, files))
    assert not split.train.x.flags.writeable and not split.train.y.flags.writeable
    assert not split.test.x.flags.writeable and not split.test.y.flags.writeable
    raw = gzip.decompress(files["t10k-images-idx3-ubyte.gz"])
    assert split.test.x[2, 0, 3, 4] == np.float32(raw[16 + 2 * 784 + 3 * 28 + 4] / 255)
    assert split.train.name == "mnist" and split.train.task == "multiclass" and split.train.n_classes == 10


def test_the_bundled_sample_is_named_mnist():
    split = mnist.load_sample()
    assert split.train.name == "mnist" and split.test.name == "mnist" and split.used_sample
    assert split.source == "bundled sample: 6,000 training + 1,000 test digits"
    assert not split.train.x.flags.writeable and not split.train.y.flags.writeable


@pytest.mark.parametrize("content, message", [
    (b"abc", "f.gz: too short to be an IDX file"),
    (b"\x00\x00\x08\x05" + bytes(20), "f.gz: not an MNIST IDX file (magic number 2053, expected 2051 or 2049)"),
    (idx_bytes(np.zeros(5))[:-1], "f.gz: truncated or damaged (12 bytes, expected 13)"),
    (idx_bytes(np.zeros(5)) + b"\x00", "f.gz: truncated or damaged (14 bytes, expected 13)"),
])
def test_bad_idx_files_are_refused_with_exact_messages(tmp_path, content, message):
    (tmp_path / "f.gz").write_bytes(content)
    with pytest.raises(MnistError) as info:
        mnist.read_idx(tmp_path / "f.gz")
    assert str(info.value) == message


def test_an_eight_byte_label_file_with_no_labels_is_read(tmp_path):
    (tmp_path / "f").write_bytes(idx_bytes(np.zeros(0)))
    assert mnist.read_idx(tmp_path / "f").shape == (0,)


def test_a_missing_idx_file_names_its_folder(tmp_path):
    with pytest.raises(MnistError) as info:
        mnist.read_idx(tmp_path / "t10k-labels-idx1-ubyte.gz")
    assert str(info.value) == f"t10k-labels-idx1-ubyte.gz: not found in {tmp_path}"


def test_an_idx_size_above_sixteen_million_is_read_with_all_four_bytes(tmp_path):
    # labels: one dimension of 2**24 + 1, so a reader dropping the top byte would expect 1 label
    (tmp_path / "f").write_bytes((2049).to_bytes(4, "big") + (2**24 + 1).to_bytes(4, "big") + b"\x07")
    with pytest.raises(MnistError) as info:
        mnist.read_idx(tmp_path / "f")
    assert str(info.value) == f"f: truncated or damaged (9 bytes, expected {8 + 2**24 + 1})"
    # images: 1 x (2**24 + 28) x 28, the second dimension too big in its top byte only
    header = (2051).to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in (1, 2**24 + 28, 28))
    (tmp_path / "g").write_bytes(header + bytes(784))
    with pytest.raises(MnistError) as info:
        mnist.read_idx(tmp_path / "g")
    assert str(info.value) == f"g: truncated or damaged (800 bytes, expected {16 + (2**24 + 28) * 28})"


def test_the_mnist_cache_folder_is_under_the_xdg_cache_or_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert mnist.cache_dir() == tmp_path / "xdg" / "neural-playground" / "mnist"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert mnist.cache_dir("other") == tmp_path / "home" / ".cache" / "neural-playground" / "other"


def test_mnist_looks_in_the_argument_then_the_data_folder_itself_then_the_cache(away_from_data):
    mine = away_from_data / "mine"
    cache = away_from_data / "cache" / "neural-playground"
    assert mnist.search_dirs(mine) == [mine, away_from_data / "env", cache / "mnist"]
    assert mnist.search_dirs(None, "extra") == [away_from_data / "env" / "extra", cache / "extra"]


def test_the_full_mnist_source_counts_digits(tmp_path):
    split = mnist.read_dir(write_files(tmp_path, fake_files()))
    assert split.source == "full MNIST: 20 training + 10 test digits" and split.used_sample is False


def test_a_bundled_sample_with_a_bad_label_is_refused_under_the_mnist_title(tmp_path, monkeypatch):
    images = np.zeros((2, 28, 28), np.uint8)
    np.savez(tmp_path / "sample.npz", x_train=images, y_train=np.array([1, 10]), x_test=images, y_test=np.array([0, 1]))
    monkeypatch.setattr(mnist, "SAMPLE", tmp_path / "sample.npz")
    with pytest.raises(MnistError) as info:
        mnist.load_sample()
    assert str(info.value) == "MNIST training labels must be classes 0-9, found 10"


def test_a_missing_bundled_sample_says_how_to_rebuild_it(tmp_path, monkeypatch):
    monkeypatch.setattr(mnist, "SAMPLE", tmp_path / "mnist_sample.npz")
    with pytest.raises(MnistError) as info:
        mnist.load_sample()
    message = str(info.value)
    assert message.startswith("the bundled sample mnist_sample.npz is missing or damaged (")
    assert message.endswith("); rebuild it with scripts/build_mnist_sample.py")


# ------------------------------------------------------------------ MNIST loading
def test_the_sample_fallback_is_logged_with_its_reason(away_from_data, caplog):
    with caplog.at_level(logging.WARNING, logger="datasets.mnist"):
        split = mnist.load(away_from_data / "none", download=False)
    reason = "no MNIST files found, and downloading is off"
    assert [r.getMessage() for r in caplog.records if r.name == "datasets.mnist"] == [
        f"using the bundled MNIST sample: {reason}"]
    assert split.used_sample and split.source == (
        f"bundled sample: 6,000 training + 1,000 test digits (full MNIST could not be loaded: {reason})")


def test_load_passes_its_progress_callback_to_the_download(away_from_data, monkeypatch):
    calls = []

    def fake_fetch(dest, progress=None, **kwargs):
        calls.append((dest, progress, kwargs))
        write_files(dest, fake_files())
    monkeypatch.setattr(mnist, "fetch", fake_fetch)

    def progress(name, done, total):
        pass
    split = mnist.load(away_from_data / "mine", progress=progress)
    assert calls == [(away_from_data / "mine", progress, {})]
    assert not split.used_sample and len(split.train) == 20


# ------------------------------------------------------------------ the download helper
class FakeResponse:
    """What urllib.request.urlopen returns, sending `chunks` under the header Content-Length `length`."""

    def __init__(self, chunks, length=None):
        self.chunks = list(chunks)
        self.headers = {} if length is None else {"Content-Length": str(length)}

    def read(self, size):
        return self.chunks.pop(0) if self.chunks else b""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_a_download_writes_a_hidden_part_file_beside_the_target_and_passes_the_timeout(tmp_path, monkeypatch):
    seen = {}

    def urlopen(url, timeout):
        seen.update(url=url, timeout=timeout, files=sorted(p.name for p in tmp_path.iterdir()))
        raise OSError("offline")
    monkeypatch.setattr("urllib.request.urlopen", urlopen)
    with pytest.raises(MnistError) as info:
        mnist.fetch(tmp_path, mirrors=("http://m/",), md5s={"a.gz": "0" * 32}, timeout=12)
    assert str(info.value) == "could not download a.gz: http://m/: offline"
    assert seen["url"] == "http://m/a.gz" and seen["timeout"] == 12
    parts = [n for n in seen["files"] if n != ".download.lock"]
    assert len(parts) == 1 and re.fullmatch(r"\.a\.gz\.[a-z0-9_]{8}\.part", parts[0])
    assert sorted(p.name for p in tmp_path.iterdir()) == [".download.lock"]


def test_a_cut_transfer_says_how_much_arrived(tmp_path, monkeypatch):
    monkeypatch.setattr("urllib.request.urlopen", lambda url, timeout: FakeResponse([b"abcde"], length=10))
    seen = []
    with pytest.raises(MnistError) as info:
        mnist.fetch(tmp_path, progress=lambda *a: seen.append(a), mirrors=("http://m/",), md5s={"a.gz": "0" * 32})
    assert str(info.value) == "could not download a.gz: http://m/: transfer interrupted after 5 of 10 bytes"
    assert seen == [("a.gz", 5, 10)]
    assert sorted(p.name for p in tmp_path.iterdir()) == [".download.lock"]


def test_an_error_without_a_message_is_named_by_its_type(tmp_path, monkeypatch):
    def refuse(url, timeout):
        raise ConnectionResetError()
    monkeypatch.setattr("urllib.request.urlopen", refuse)
    with pytest.raises(MnistError) as info:
        mnist.fetch(tmp_path, mirrors=("http://m/",), md5s={"a.gz": "0" * 32})
    assert str(info.value) == "could not download a.gz: http://m/: ConnectionResetError"


def test_a_wrong_md5_names_both_digests(tmp_path, monkeypatch):
    monkeypatch.setattr("urllib.request.urlopen", lambda url, timeout: FakeResponse([b"ab", b"cd"], length=4))
    with pytest.raises(MnistError) as info:
        mnist.fetch(tmp_path, mirrors=("http://m/", "http://n/"), md5s={"a.gz": "0" * 32})
    got = hashlib.md5(b"abcd").hexdigest()
    mismatch = f"md5 mismatch (got {got}, expected {'0' * 32})"
    assert str(info.value) == f"could not download a.gz: http://m/: {mismatch}; http://n/: {mismatch}"


class SizedResponse(FakeResponse):
    """Sends `total` bytes, as much as each read asks for."""

    def __init__(self, total):
        super().__init__([], length=total)
        self.left = total

    def read(self, size):
        chunk = bytes(min(size, self.left))
        self.left -= len(chunk)
        return chunk


def test_download_progress_is_reported_every_64_kib(tmp_path, monkeypatch):
    monkeypatch.setattr("urllib.request.urlopen", lambda url, timeout: SizedResponse(200_000))
    seen = []
    with pytest.raises(MnistError, match="md5 mismatch"):
        mnist.fetch(tmp_path, progress=lambda *a: seen.append(a), mirrors=("http://m/",), md5s={"a.gz": "0" * 32})
    assert seen == [("a.gz", 65_536, 200_000), ("a.gz", 131_072, 200_000), ("a.gz", 196_608, 200_000),
                    ("a.gz", 200_000, 200_000)]


def test_the_default_download_timeout_is_thirty_seconds(tmp_path, monkeypatch):
    seen = []

    def urlopen(url, timeout):
        seen.append(timeout)
        raise OSError("offline")
    monkeypatch.setattr("urllib.request.urlopen", urlopen)
    with pytest.raises(MnistError):
        mnist.fetch(tmp_path, mirrors=("http://m/",), md5s={"a.gz": "0" * 32})
    assert seen == [30]


@pytest.mark.parametrize("module", [fashion_mnist, cifar10])
def test_the_image_sets_pass_their_download_settings_on(module, tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(mnist, "fetch", lambda *args, **kwargs: calls.append((args, kwargs)))

    def progress(*args):
        pass

    def warn(text):
        pass
    module.fetch(tmp_path, progress, mirrors=("http://m/",), md5s={"f": "1" * 32}, timeout=7, warn=warn)
    (args, kwargs), = calls
    assert args == (tmp_path, progress)
    assert kwargs["mirrors"] == ("http://m/",) and kwargs["md5s"] == {"f": "1" * 32}
    assert kwargs["timeout"] == 7 and kwargs["warn"] is warn


def test_cifar_checks_downloads_with_its_archive_reader(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(mnist, "fetch", lambda *args, **kwargs: calls.append(kwargs))
    cifar10.fetch(tmp_path)
    assert calls[0]["check"] is cifar10.read_archive and calls[0]["timeout"] == 30


# ------------------------------------------------------------------ CIFAR-10
def test_a_cifar_label_of_nine_is_accepted():
    x, y = cifar10.parse_batch(bytes([9]) + bytes(range(256)) * 12, "test_batch.bin")
    assert y.tolist() == [9] and x.shape == (1, 3, 32, 32) and x[0, 0, 0, 5] == 5 and x[0, 2, 31, 31] == 255


def test_a_cifar_label_of_ten_is_refused_with_its_value():
    with pytest.raises(Cifar10Error) as info:
        cifar10.parse_batch(bytes([3]) + bytes(3072) + bytes([10]) + bytes(3072), "test_batch.bin")
    assert str(info.value) == "test_batch.bin: labels must be classes 0-9, found 10: the file is damaged"


@pytest.mark.parametrize("size", [0, 3072, 3074, 6145])
def test_a_cifar_batch_that_is_not_whole_records_is_refused_exactly(size):
    with pytest.raises(Cifar10Error) as info:
        cifar10.parse_batch(bytes(size), "data_batch_1.bin")
    assert str(info.value) == (f"data_batch_1.bin: {size:,} bytes is not a whole number of 3073-byte images "
                               "(1 label + 3072 pixels): the file is damaged")


def test_cifar_arrays_are_read_only(tmp_path):
    split = cifar10.read_dir(write_files(tmp_path, cifar_files()))
    for part in (split.train, split.test):
        assert not part.x.flags.writeable and not part.y.flags.writeable
        assert part.name == "cifar10" and part.task == "multiclass" and part.n_classes == 10
    assert split.source == "CIFAR-10: 20 training + 10 test images" and split.used_sample is False


def cifar_missing(root, mine, target, reason):
    """The missing-archive message, written out, for data_dir `mine` under the away_from_data folders."""
    places = f"{mine}, {root / 'env' / 'cifar10'}, {root / 'cache' / 'neural-playground' / 'cifar10'}"
    return (f"CIFAR-10 is not on this machine: its archive cifar-10-binary.tar.gz was not found in {places}, "
            f"and {reason}. To get it, download https://example.org/c/cifar-10-binary.tar.gz "
            f"(about 160 MB) and put it in {target}, or set PLAYGROUND_DATA_DIR to a folder whose 'cifar10' "
            "subfolder holds it.")


def test_the_cifar_missing_message_lists_every_folder_searched(away_from_data, monkeypatch):
    monkeypatch.setattr(cifar10, "MIRRORS", ("https://example.org/c/",))
    mine, target = away_from_data / "mine", away_from_data / "target"
    assert cifar10.missing_message(mine, target, "downloading is off") == cifar_missing(
        away_from_data, mine, target, "downloading is off")


def test_without_downloads_a_missing_set_says_where_it_looked_and_where_to_put_it(away_from_data, monkeypatch):
    monkeypatch.setattr(cifar10, "MIRRORS", ("https://example.org/c/",))
    monkeypatch.setattr(cifar10, "fetch", lambda *a, **k: pytest.fail("downloading is off"))
    mine = away_from_data / "mine"
    with pytest.raises(Cifar10Error) as info:
        cifar10.load(mine, download=False)
    assert str(info.value) == cifar_missing(away_from_data, mine, mine, "downloading is off")


@pytest.mark.parametrize("failure", [Cifar10Error("no route"), OSError("no route")])
def test_a_failed_download_says_why_in_the_missing_message(away_from_data, monkeypatch, failure):
    monkeypatch.setattr(cifar10, "MIRRORS", ("https://example.org/c/",))
    seen = []

    def fetch(dest, progress=None):
        seen.append(dest)
        raise failure
    monkeypatch.setattr(cifar10, "fetch", fetch)
    mine = away_from_data / "mine"
    with pytest.raises(Cifar10Error) as info:
        cifar10.load(mine)
    assert str(info.value) == cifar_missing(away_from_data, mine, mine, "the download failed: no route")
    assert seen == [mine]


def test_a_damaged_set_in_the_users_folder_is_reported_with_how_to_fix_it(away_from_data, monkeypatch):
    monkeypatch.setattr(fashion_mnist, "MIRRORS", ("https://example.org/f/",))
    monkeypatch.setattr(fashion_mnist, "fetch", lambda *a, **k: pytest.fail("the user's own folder is kept"))
    folder = mnist_folder(away_from_data / "env" / "fashion_mnist", test_labels=[0] * 9)
    for download in (True, False):
        with pytest.raises(FashionMnistError) as info:
            fashion_mnist.load(download=download)
        assert str(info.value) == (
            f"Fashion-MNIST in {folder} cannot be used: Fashion-MNIST test set: 10 images but labels of shape (9,). "
            "Replace that file with a fresh copy from https://example.org/f/, or delete it to download it again.")


def test_a_damaged_cifar_archive_in_the_users_folder_names_the_archive_to_replace(away_from_data, monkeypatch):
    monkeypatch.setattr(cifar10, "MIRRORS", ("https://example.org/c/",))
    members = cifar_members()
    del members["cifar-10-batches-bin/data_batch_5.bin"]
    folder = write_files(away_from_data / "env" / "cifar10", {cifar10.ARCHIVE: tar_gz(members)})
    with pytest.raises(Cifar10Error) as info:
        cifar10.load(download=False)
    assert str(info.value) == (
        f"CIFAR-10 in {folder} cannot be used: cifar-10-binary.tar.gz: not the CIFAR-10 binary archive, it lacks "
        "cifar-10-batches-bin/data_batch_5.bin. Replace cifar-10-binary.tar.gz with a fresh copy from "
        "https://example.org/c/, or delete it to download it again.")


def test_a_damaged_download_in_the_cache_is_fetched_again_only_when_downloads_are_on(away_from_data, monkeypatch):
    cache = mnist_folder(fashion_mnist.cache_dir(), test_labels=[0] * 9)
    with pytest.raises(FashionMnistError, match=re.escape(f"Fashion-MNIST in {cache} cannot be used: ")):
        fashion_mnist.load(download=False)
    calls = []

    def fetch(dest, progress=None):
        calls.append(dest)
        write_files(dest, fake_files())
    monkeypatch.setattr(fashion_mnist, "fetch", fetch)
    split = fashion_mnist.load()
    assert calls == [cache] and len(split.test) == 10


def test_fashion_sources_count_images(tmp_path):
    split = fashion_mnist.read_dir(write_files(tmp_path, fake_files()))
    assert split.source == "full Fashion-MNIST: 20 training + 10 test images" and split.used_sample is False


@pytest.mark.parametrize("module", [fashion_mnist, cifar10])
def test_the_image_sets_download_with_a_thirty_second_timeout_by_default(module, tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(mnist, "fetch", lambda *args, **kwargs: calls.append(kwargs))
    module.fetch(tmp_path)
    assert calls[0]["timeout"] == 30 and calls[0]["mirrors"] == module.MIRRORS and calls[0]["md5s"] == module.FILES


def test_a_cifar_archive_with_a_folder_entry_dot_slash_names_and_a_repeated_batch_is_read(tmp_path):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        folder = tarfile.TarInfo("./cifar-10-batches-bin")
        folder.type = tarfile.DIRTYPE
        tar.addfile(folder)
        members = list(cifar_members().items()) + [("cifar-10-batches-bin/test_batch.bin", cifar_record(5))]
        for name, data in members:
            info = tarfile.TarInfo("./" + name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    (tmp_path / cifar10.ARCHIVE).write_bytes(buffer.getvalue())
    x_train, y_train, x_test, y_test = cifar10.read_archive(tmp_path / cifar10.ARCHIVE)
    assert y_train.tolist() == [i % 10 for i in range(20)] and x_train.shape == (20, 3, 32, 32)
    assert y_test.tolist() == list(range(10)) and x_test.shape == (10, 3, 32, 32)     # the first copy counts


def cifar_error(path):
    with pytest.raises(Cifar10Error) as info:
        cifar10.read_archive(path)
    return str(info.value)


def test_cifar_archive_errors_are_exact(tmp_path):
    path = tmp_path / cifar10.ARCHIVE
    assert cifar_error(path) == f"cifar-10-binary.tar.gz: not found in {tmp_path}"
    members = cifar_members()
    del members["cifar-10-batches-bin/data_batch_5.bin"], members["cifar-10-batches-bin/data_batch_4.bin"]
    path.write_bytes(tar_gz(members))
    assert cifar_error(path) == ("cifar-10-binary.tar.gz: not the CIFAR-10 binary archive, it lacks "
                                 "cifar-10-batches-bin/data_batch_4.bin, cifar-10-batches-bin/data_batch_5.bin")
    path.write_bytes(tar_gz({**cifar_members(), "cifar-10-batches-bin/test_batch.bin": b"\x0c" + bytes(3072)}))
    assert cifar_error(path) == ("cifar-10-batches-bin/test_batch.bin: labels must be classes 0-9, found 12: "
                                 "the file is damaged")


def test_an_uncompressed_tar_is_not_the_cifar_archive(tmp_path):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, data in cifar_members().items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    (tmp_path / cifar10.ARCHIVE).write_bytes(buffer.getvalue())
    assert cifar_error(tmp_path / cifar10.ARCHIVE) == (
        "cifar-10-binary.tar.gz: cannot be read, the archive is damaged or cut short (not a gzip file)")


class OneMemberTar:
    """Stands in for an open tarfile whose member holds `data`, whatever its header says."""

    def __init__(self, data):
        self.data = data

    def extractfile(self, member):
        return io.BytesIO(self.data)


def member(size):
    info = tarfile.TarInfo("cifar-10-batches-bin/data_batch_1.bin")
    info.size = size
    return info


def test_a_batch_of_the_official_size_is_taken_and_one_byte_more_is_refused():
    biggest = 10_000 * 3073
    assert len(cifar10._member_bytes(OneMemberTar(bytes(biggest)), member(biggest), "a.tar.gz")) == biggest
    with pytest.raises(Cifar10Error) as info:
        cifar10._member_bytes(OneMemberTar(b""), member(biggest + 1), "a.tar.gz")
    assert str(info.value) == ("a.tar.gz: cifar-10-batches-bin/data_batch_1.bin is 30,730,001 bytes, "
                               "too big for a CIFAR-10 batch")


def test_a_batch_shorter_than_its_header_says_is_refused():
    with pytest.raises(Cifar10Error) as info:
        cifar10._member_bytes(OneMemberTar(b"abc"), member(10), "a.tar.gz")
    assert str(info.value) == "a.tar.gz: cifar-10-batches-bin/data_batch_1.bin is cut short (3 of 10 bytes)"


def test_the_fashion_missing_message_lists_every_folder_searched(away_from_data, monkeypatch):
    monkeypatch.setattr(fashion_mnist, "MIRRORS", ("https://example.org/f/",))
    mine, target = away_from_data / "mine", away_from_data / "target"
    places = (f"{mine}, {away_from_data / 'env' / 'fashion_mnist'}, "
              f"{away_from_data / 'cache' / 'neural-playground' / 'fashion_mnist'}")
    assert fashion_mnist.missing_message(mine, target, "downloading is off") == (
        "Fashion-MNIST is not on this machine: its four files (train-images-idx3-ubyte.gz, "
        "train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz) were not found "
        f"in {places}, and downloading is off. To get it, download the four files from https://example.org/f/ "
        f"and put them in {target}, or set PLAYGROUND_DATA_DIR to a folder whose 'fashion_mnist' subfolder "
        "holds them.")


# ------------------------------------------------------------------ datasets.load
@pytest.mark.parametrize("name", ["mnist", "fashion_mnist", "cifar10"])
def test_load_hands_an_image_set_its_folder_download_switch_and_progress(name, tmp_path, monkeypatch):
    import importlib
    module = importlib.import_module(f"datasets.{name}")
    calls = []
    monkeypatch.setattr(module, "load", lambda *args, **kwargs: calls.append((args, kwargs)) or "split")

    def progress(*args):
        pass
    config = cfg.from_dict(dict(dataset=name))
    assert datasets.load(config, tmp_path, progress, download=False) == "split"
    assert calls == [((tmp_path,), {"download": False, "progress": progress})]
    calls.clear()
    datasets.load(config)
    assert calls == [((None,), {"download": True, "progress": None})]


def test_load_of_custom_points_needs_points_of_that_kind():
    config = cfg.from_dict(dict(dataset="custom"))
    for points in (None, pts.empty()):
        with pytest.raises(pts.PointsError) as info:
            datasets.load(config, points=points)
        assert str(info.value) == ("the custom data needs your points: upload a CSV file or click points on the "
                                   "plane (CLI: train --data points.csv)")
    with pytest.raises(pts.PointsError) as info:
        datasets.load(config, points=pts.add(pts.empty(), 0.5, 0.5, 1))
    assert str(info.value) == "there are 1 points; at least 10 are needed (some train the network, the rest test it)"
    targets = pts.parse_csv("x1,x2,target\n" + "".join(f"{i},{i % 3},{i}\n" for i in range(10)))
    with pytest.raises(pts.PointsError) as info:
        datasets.load(config, points=targets)
    assert str(info.value) == "these points are for dataset custom_regression, not custom"
    split = datasets.load(config.replace(dataset="custom_regression", test_ratio=0.3, seed=2), points=targets)
    assert split.task == "regression" and len(split.test) == 3 and split.train.name == "custom_regression"


def test_load_of_a_toy_set_generates_it_from_the_config():
    config = cfg.from_dict(dict(dataset="gauss", n_points=40, noise=0.25, test_ratio=0.25, seed=6,
                                features=("x1x2",)))
    split = datasets.load(config)
    assert split.source == "generated: gauss, 40 points, noise 0.25" and len(split.test) == 10
    assert split.train.x.shape == (30, 3) and split.train.name == "gauss"
    data = toy.gauss(40, 0.25, 6)
    order = np.random.default_rng(7).permutation(40)
    assert np.array_equal(split.test.x[:, :2], data.x[order[:10]])
