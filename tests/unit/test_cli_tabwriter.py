"""Columns line up exactly as Docker's tabwriter.NewWriter(out, 10, 1, 3, ' ', 0) lays them out."""

import pytest

from dockyard.cli.tabwriter import format_table


def test_docker_images_header_with_no_rows():
    text = "REPOSITORY\tTAG\tIMAGE ID\tCREATED\tSIZE\n"
    assert format_table(text) == "REPOSITORY   TAG       IMAGE ID   CREATED   SIZE\n"


def test_docker_images_table():
    text = (
        "REPOSITORY\tTAG\tIMAGE ID\tCREATED\tSIZE\n"
        "busybox\tlatest\tf6cf59edea55\t2 weeks ago\t4.26MB\n"
        "localhost:5000/app\t1.0\t0123456789ab\tAbout a minute ago\t100MB\n"
    )
    assert format_table(text) == (
        "REPOSITORY           TAG       IMAGE ID       CREATED              SIZE\n"
        "busybox              latest    f6cf59edea55   2 weeks ago          4.26MB\n"
        "localhost:5000/app   1.0       0123456789ab   About a minute ago   100MB\n"
    )


@pytest.mark.parametrize(
    "text, want",
    [
        ("", ""),
        ("no tabs\n", "no tabs\n"),
        ("a\tb\n", "a         b\n"),  # min width 10
        ("abcdefghij\tb\n", "abcdefghij   b\n"),  # widest cell + padding 3
        ("a\tb\tc\n", "a         b         c\n"),
        ("a\t\tc\n", "a                   c\n"),  # empty cells keep their column
        ("a\tb\nlonger-than-ten\tc\n", "a" + " " * 17 + "b\nlonger-than-ten   c\n"),
        # the last cell of a line is not part of a column: no padding after it
        ("a\tvery-long-last-cell\nb\tc\n", "a         very-long-last-cell\nb         c\n"),
        # a line without tabs ends the column block: widths start again after it
        ("aaaaaaaaaaaaaa\tx\nbreak\nb\ty\n", "aaaaaaaaaaaaaa   x\nbreak\nb         y\n"),
        # a shorter line ends the block of the column it lacks
        ("a\tb\tc\nd\n\te\tf\n", "a         b         c\nd\n          e         f\n"),
        ("x\ty", "x         y"),  # no final newline
    ],
)
def test_layout(text, want):
    assert format_table(text) == want


def test_wide_characters_count_twice():
    # 日本語 is 6 columns wide: 6 + 3 < 10, so the column is 10 wide
    assert format_table("日本語日本\tx\nab\ty\n") == "日本語日本   x\nab" + " " * 11 + "y\n"
    assert format_table("日本語\tx\nab\ty\n") == "日本語    x\nab        y\n"


def test_other_parameters_like_docker_version():
    text = " Version:\t0.1.0\n API version:\t1.44\n"
    assert format_table(text, minwidth=20, padding=1) == (
        " Version:           0.1.0\n API version:       1.44\n"
    )
