"""FER2013's reading rules, row by row: blank lines, a missing last newline, a byte-order mark, extra
columns, tabs, files longer than one parsing chunk, the tar member chosen, which file of a folder is
read, the Kaggle image folders' split, and the words of every message and of the provenance.
CSV text written by hand here (tiny, in the real format); no real data."""

from __future__ import annotations

import gzip
import io
import tarfile
from pathlib import Path

import numpy as np
import pytest
from fixtures import write_image

from fer_avalanche import load_dataset
from fer_avalanche.data.formats.fer2013 import find_fer2013_csv, read_fer2013_table
from fer_avalanche.errors import DatasetError
from fer_avalanche.labels import BASIC7

HEADER = "emotion,pixels,Usage"


def _pixels(value: int, sep: str = " ") -> str:
    return sep.join([str(value)] * 2304)


def _write(path: Path, lines: list[str], *, end: str = "\n", gz: bool = False) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = end.join(lines).encode()
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def _rows(n: int, usage: str | None = "Training") -> list[str]:
    """``n`` rows: emotion ``i % 7``, every pixel ``i % 256``; no Usage field with ``usage=None``."""
    return [f"{i % 7},{_pixels(i % 256)}" + ("" if usage is None else f",{usage}") for i in range(n)]


def _load(path: Path, tmp_path: Path, **kw):
    return load_dataset("fer2013", path, cache_dir=tmp_path / "cache", **kw)


# ------------------------------------------------------------------------------ rows and lines
def test_blank_lines_are_skipped_but_counted_in_line_numbers(tmp_path: Path) -> None:
    path = _write(tmp_path / "fer2013.csv", [HEADER, *_rows(2), "", "  ", *_rows(1), "\r"])
    table = read_fer2013_table(path)
    assert table.lines.tolist() == [2, 3, 6] and table.index.tolist() == [0, 1, 2] and table.rows == 3
    assert table.pixels[:, 0, 0].tolist() == [0, 1, 0]
    bad = _write(tmp_path / "bad.csv", [HEADER, *_rows(1), "", "9," + _pixels(1) + ",Training"])
    with pytest.raises(DatasetError, match=r"bad\.csv: line 4: emotion '9' is not 0\.\.6"):
        read_fer2013_table(bad)


def test_a_last_row_without_a_newline_is_read(tmp_path: Path) -> None:
    path = _write(tmp_path / "fer2013.csv", [HEADER, *_rows(3)], end="\n")  # no newline after the last row
    assert not path.read_bytes().endswith(b"\n")
    table = read_fer2013_table(path)
    assert table.emotion.tolist() == [0, 1, 2] and table.pixels[2].max() == 2


def test_a_byte_order_mark_extra_columns_and_tabs_are_accepted(tmp_path: Path) -> None:
    lines = [
        "\ufeffemotion,pixels,Usage,source",
        f"3,{_pixels(7, chr(9))},PublicTest,web",
        f"5,{_pixels(9)},PrivateTest,lab",
    ]
    table = read_fer2013_table(_write(tmp_path / "fer2013.csv", lines))
    assert table.columns == ["emotion", "pixels", "usage", "source"]
    assert table.emotion.tolist() == [3, 5] and table.usage.tolist() == [1, 2]
    assert table.pixels[0].min() == table.pixels[0].max() == 7


def test_rows_beyond_one_parsing_chunk_keep_their_pixels_and_line_numbers(tmp_path: Path) -> None:
    lines = [HEADER, *_rows(2100)]
    lines[1 + 1500] = "1," + " ".join(["5"] * 2303 + ["300"]) + ",Training"  # data row 1500, line 1502
    path = _write(tmp_path / "fer2013.csv", lines)
    with pytest.raises(DatasetError, match=r"fer2013\.csv: line 1502: pixel value 300 is not in 0\.\.255"):
        read_fer2013_table(path)
    with pytest.warns(UserWarning, match=r"skipped 1 malformed rows, e\.g\. .*line 1502"):
        table = read_fer2013_table(path, skip_corrupt=True)
    assert len(table.emotion) == 2099 and table.rows == 2100
    kept = [i for i in range(2100) if i != 1500]
    assert table.index.tolist() == kept and table.lines.tolist() == [i + 2 for i in kept]
    assert table.pixels[:, 0, 0].tolist() == [i % 256 for i in kept]
    assert table.emotion.tolist() == [i % 7 for i in kept]


def test_skipped_rows_are_counted_by_reason_and_the_warning_quotes_the_first(tmp_path: Path) -> None:
    lines = [
        HEADER,
        *_rows(3),
        "8," + _pixels(1) + ",Training",
        "1," + _pixels(1) + ",Other",
        "2," + _pixels(1),
        "7," + _pixels(1) + ",Training",
    ]
    path = _write(tmp_path / "fer2013.csv", lines)
    with pytest.warns(
        UserWarning,
        match=r"fer2013\.csv: skipped 4 malformed rows, e\.g\. .*fer2013\.csv: line 5: "
        r"emotion '8' is not 0\.\.6$",
    ):
        table = read_fer2013_table(path, skip_corrupt=True)
    assert dict(table.skipped) == {"emotion not in 0..6": 2, "unknown Usage": 1, "wrong number of fields": 1}
    assert table.rows == 7 and len(table.emotion) == 3


def test_messages_quote_a_bad_value_and_say_what_was_expected(tmp_path: Path) -> None:
    long_usage = "V" * 50
    cases = [
        (f"x{'y' * 40},{_pixels(1)},Training", r"line 2: emotion 'xyyyyyyyyyyyyyyyyyyy' is not 0\.\.6 "),
        (
            f"1,{_pixels(1)},{long_usage}",
            rf"line 2: Usage '{'V' * 30}' is not Training, PublicTest or PrivateTest ",
        ),
        ("1,1 2 3,Training", r"line 2: 3 pixel values, expected 2304 \(48x48\) "),
        (f"1,{_pixels(1)},Training,x", r"line 2: 4 fields, expected 3 \(emotion,pixels,usage\) "),
        (
            "1," + " ".join(["1"] * 2303 + ["-4"]) + ",Training",
            r"line 2: pixel value '-4' is not an integer ",
        ),
    ]
    for row, message in cases:
        path = _write(tmp_path / "fer2013.csv", [HEADER, row])
        with pytest.raises(
            DatasetError, match=message + r"\(pass skip_corrupt=True to skip malformed rows\)$"
        ):
            read_fer2013_table(path)


def test_a_file_of_only_malformed_rows_has_no_usable_rows(tmp_path: Path) -> None:
    path = _write(tmp_path / "fer2013.csv", [HEADER, "1,1 2,Training", "", "2,3,Training"])
    with pytest.warns(UserWarning, match="skipped 2 malformed rows"):
        with pytest.raises(DatasetError, match=r"fer2013\.csv: no usable rows \(found 2 data rows\)$"):
            read_fer2013_table(path, skip_corrupt=True)


def test_a_header_without_pixels_or_emotion_is_refused(tmp_path: Path) -> None:
    with pytest.raises(
        DatasetError,
        match=r"other\.csv: not a FER2013 CSV: header 'a,b' has no 'pixels' column "
        r"\(expected emotion,pixels,Usage\)$",
    ):
        read_fer2013_table(_write(tmp_path / "other.csv", ["a,b", "1,2"]))
    with pytest.raises(
        DatasetError,
        match=r"test\.csv: has no 'emotion' column: this looks like Kaggle's unlabeled "
        r"test\.csv, which cannot be used",
    ):
        read_fer2013_table(_write(tmp_path / "test.csv", ["pixels", _pixels(1)]))
    with pytest.raises(
        DatasetError, match=r"empty\.csv: not a FER2013 CSV: header '' has no 'pixels' column"
    ):
        read_fer2013_table(_write(tmp_path / "empty.csv", [""]))


# ------------------------------------------------------------------------------ files and archives
def _tar(path: Path, members: dict[str, bytes]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def test_the_tar_member_read_is_fer2013_csv_first_then_a_known_name(tmp_path: Path) -> None:
    one = "\n".join([HEADER, *_rows(1)]).encode()
    two = "\n".join([HEADER, *_rows(2)]).encode()
    tar = _tar(tmp_path / "a.tar.gz", {"other/fer2013.csv": two, "./fer2013/fer2013.csv": one})
    table = read_fer2013_table(tar)
    assert len(table.emotion) == 1 and table.source == f"{tar}:./fer2013/fer2013.csv"
    icml = _tar(tmp_path / "b.tgz", {"notes.csv": one, "data/icml_face_data.csv": two})
    assert len(read_fer2013_table(icml).emotion) == 2
    none = _tar(tmp_path / "c.tar", {"fer2013/README": b"x", "fer2013/labels.csv": one})
    with pytest.raises(
        DatasetError,
        match=r"c\.tar: no fer2013/fer2013\.csv inside the archive \(found: "
        r"fer2013/README, fer2013/labels\.csv\)$",
    ):
        read_fer2013_table(none)


def test_gzip_is_recognised_by_its_bytes_and_a_damaged_file_is_named(tmp_path: Path) -> None:
    gz = _write(tmp_path / "fer2013.csv", [HEADER, *_rows(2)], gz=True)  # gzipped under a .csv name
    assert len(read_fer2013_table(gz).emotion) == 2
    plain = _write(tmp_path / "plain.csv.gz", [HEADER, *_rows(2)])  # a plain CSV under a .gz name
    assert len(read_fer2013_table(plain).emotion) == 2
    cut = tmp_path / "cut.csv.gz"
    whole = gzip.compress("\n".join([HEADER, *_rows(50)]).encode())
    cut.write_bytes(whole[: len(whole) // 2])  # a download that stopped half-way
    with pytest.raises(DatasetError, match=r"cut\.csv\.gz: cannot read \("):
        read_fer2013_table(cut)
    with pytest.raises(DatasetError, match=r"missing\.csv: file not found \(expected a FER2013 CSV\)$"):
        read_fer2013_table(tmp_path / "missing.csv")


def test_a_folder_is_searched_in_the_documented_order(tmp_path: Path) -> None:
    root = tmp_path / "data"
    _write(root / "train.csv", ["emotion,pixels", *_rows(3, None)])
    _write(root / "icml_face_data.csv", ["emotion, Usage, pixels", f"1, Training, {_pixels(1)}"])
    assert find_fer2013_csv(root) == root / "icml_face_data.csv"
    _write(root / "fer2013" / "fer2013.csv", [HEADER, *_rows(2)])
    assert find_fer2013_csv(root) == root / "fer2013" / "fer2013.csv"
    (root / "fer2013.csv").mkdir()  # a folder of that name is not the file
    assert find_fer2013_csv(root) == root / "fer2013" / "fer2013.csv"
    assert find_fer2013_csv(tmp_path / "nothing") is None
    data = _load(root, tmp_path)
    assert len(data) == 2 and data.provenance["file"] == str(root / "fer2013" / "fer2013.csv")


def test_the_provenance_states_the_file_layout_rows_and_split_rule(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "fer2013.csv", [HEADER, *_rows(2), *_rows(1, "PublicTest"), *_rows(1, "PrivateTest")]
    )
    prov = _load(path, tmp_path).provenance
    assert prov["format"] == "fer2013" and prov["root"] == str(path) and prov["file"] == str(path)
    assert prov["layout"] == "CSV fer2013.csv with columns emotion,pixels,usage" and prov["rows"] == 4
    assert prov["split"] == "official"
    assert prov["split_rule"] == "Usage: Training->train, PublicTest->val, PrivateTest->test"
    assert prov["face_detection"] is None and prov["preprocessing"]["face_crop"] == "none"
    tar = _tar(tmp_path / "k" / "fer2013.tar.gz", {"fer2013/fer2013.csv": path.read_bytes()})
    assert (
        _load(tar, tmp_path).provenance["layout"]
        == "tar archive member fer2013.csv with columns emotion,pixels,usage"
    )
    train = _write(tmp_path / "t" / "train.csv", ["emotion,pixels", *_rows(2, None)])
    prov = _load(train, tmp_path).provenance
    assert prov["split"] == "none (all train)" and prov["split_rule"] == "no Usage column: every row is train"
    assert "ignored" not in prov


def test_labels_in_basic8_keep_fer2013s_codes(tmp_path: Path) -> None:
    path = _write(tmp_path / "fer2013.csv", [HEADER, *(f"{e},{_pixels(e)},Training" for e in (6, 0, 3))])
    data = _load(path, tmp_path, label_space="basic8")
    assert [data.label_space.names[i] for i in data.labels.tolist()] == ["neutral", "angry", "happy"]


@pytest.mark.skipif(
    not __import__("fer_avalanche.data.imageio", fromlist=["opencv_available"]).opencv_available(),
    reason="face detection needs OpenCV",
)
def test_detect_with_skip_on_faceless_rows_says_no_face_was_found(tmp_path: Path) -> None:
    path = _write(tmp_path / "fer2013.csv", [HEADER, *_rows(3)])
    with pytest.raises(
        DatasetError, match=r"fer2013\.csv: no face detected in any image \(try detect_fallback='center'\)$"
    ):
        _load(path, tmp_path, face_crop="detect", detect_fallback="skip")


def test_a_missing_root_and_an_empty_folder_list_what_is_accepted(tmp_path: Path) -> None:
    with pytest.raises(
        DatasetError,
        match=r"nope: not found \(expected fer2013\.csv, fer2013\.csv\.gz, fer2013\.tar\.gz, "
        r"icml_face_data\.csv, train\.csv, or a folder holding one of them or Kaggle's train/ and test/ "
        r"image folders\)$",
    ):
        _load(tmp_path / "nope", tmp_path)
    (tmp_path / "e").mkdir()
    with pytest.raises(
        DatasetError,
        match=r"e: no FER2013 data found \(expected one of fer2013\.csv, fer2013\.csv\.gz, "
        r"fer2013/fer2013\.csv, .*train\.csv\.gz, or train/<class>/ and test/<class>/ image folders\); "
        r"found: nothing \(empty folder\)$",
    ):
        _load(tmp_path / "e", tmp_path)


# ------------------------------------------------------------------------------ image folders
def test_image_folders_split_by_folder_and_file_name(tmp_path: Path) -> None:
    root = tmp_path / "kaggle"
    write_image(root / "train" / "fear" / "PublicTest_9.jpg", size=(48, 48))  # train/ wins over the name
    write_image(root / "val" / "sad" / "PrivateTest_1.jpg", size=(48, 48), seed=1)  # val/ wins too
    write_image(root / "test" / "happy" / "PublicTest_2.jpg", size=(48, 48), seed=2)
    write_image(root / "test" / "happy" / "PrivateTest_3.jpg", size=(48, 48), seed=3)
    write_image(root / "test" / ".hidden" / "x.jpg", size=(48, 48), seed=4)
    data = _load(root, tmp_path)
    names = [BASIC7.names[i] for i in data.labels.tolist()]
    assert data.counts() == {"train": 1, "val": 2, "test": 1}
    assert sorted(zip(names, data.split.tolist(), strict=True)) == [
        ("fear", 0),
        ("happy", 1),
        ("happy", 2),
        ("sad", 1),
    ]
    prov = data.provenance
    assert prov["root"] == str(root) and prov["format"] == "fer2013-images"
    assert prov["layout"] == "Kaggle image folders train/<class>/, test/<class>/, val/<class>/"
    assert (
        prov["split_rule"]
        == "train/ -> train; test/: PublicTest_* -> val, PrivateTest_* (and others) -> test"
    )


def test_image_folders_without_images_or_with_unknown_classes_are_refused(tmp_path: Path) -> None:
    root = tmp_path / "kaggle"
    (root / "train" / "happy").mkdir(parents=True)
    with pytest.raises(
        DatasetError,
        match=r"kaggle: no images in train/<class>/ or test/<class>/ \(expected class "
        r"folders angry, disgust, fear, happy, neutral, sad, surprise holding \.jpg files\); found: train/$",
    ):
        _load(root, tmp_path)
    (root / "test" / "bored").mkdir(parents=True)
    (root / "test" / "meh").mkdir(parents=True)
    with pytest.raises(
        DatasetError,
        match=r"kaggle: unknown class folders test/bored, test/meh in the FER2013 image "
        r"layout \(expected angry, disgust, fear, happy, neutral, sad, surprise\)$",
    ):
        _load(root, tmp_path)


def test_a_kaggle_folder_with_only_test_csv_is_refused_and_train_csv_beside_it_noted(tmp_path: Path) -> None:
    root = tmp_path / "k"
    _write(root / "test.csv", ["pixels", _pixels(1)])
    with pytest.raises(
        DatasetError,
        match=r"k: only test\.csv found: Kaggle's test\.csv has no labels, so it cannot "
        r"be used for training or evaluation; add train\.csv or use fer2013\.csv / fer2013\.tar\.gz$",
    ):
        _load(root, tmp_path)
    _write(root / "train.csv", ["emotion,pixels", *_rows(2, None)])
    data = _load(root, tmp_path)
    assert data.provenance["ignored"] == "test.csv (Kaggle's test file has no labels)"
    assert np.array_equal(data.labels.numpy(), [0, 1])


@pytest.mark.parametrize(
    ("token", "message"),
    [
        ("1:2", r"pixel value '1:2' is not an integer"),
        ("1000", r"pixel value 1000 is not in 0\.\.255"),
        ("9" * 25, r"pixel value " + "9" * 20 + r" is not in 0\.\.255"),
        ("x" * 25, r"pixel value '" + "x" * 20 + r"' is not an integer"),
    ],
)
def test_a_bad_pixel_token_is_quoted_up_to_20_characters(tmp_path: Path, token: str, message: str) -> None:
    path = _write(tmp_path / "fer2013.csv", [HEADER, "1," + " ".join(["1"] * 2303 + [token]) + ",Training"])
    with pytest.raises(DatasetError, match=r"line 2: " + message + r" \(pass skip_corrupt"):
        read_fer2013_table(path)


def test_test_csv_beside_fer2013_csv_is_not_noted_as_ignored(tmp_path: Path) -> None:
    root = tmp_path / "k"
    _write(root / "fer2013.csv", [HEADER, *_rows(2)])
    _write(root / "test.csv", ["pixels", _pixels(1)])
    assert "ignored" not in _load(root, tmp_path).provenance


def test_loading_with_skip_corrupt_warns_naming_fer2013_and_use_cache_off_reads_again(tmp_path: Path) -> None:
    path = _write(tmp_path / "fer2013.csv", [HEADER, *_rows(2), "9," + _pixels(1) + ",Training"])
    loads = []
    for _ in range(2):  # read twice, warned twice: nothing cached
        with pytest.warns(UserWarning) as record:
            loads.append(_load(path, tmp_path, skip_corrupt=True, use_cache=False))
        messages = [str(w.message) for w in record]
        assert "fer2013: skipped 1 emotion not in 0..6" in messages
        assert any(m.endswith("line 4: emotion '9' is not 0..6") for m in messages)
    assert len(loads[0]) == 2 and loads[1].provenance["cache"] == loads[0].provenance["cache"] != "hit"
    assert not (tmp_path / "cache").exists() or not any((tmp_path / "cache").rglob("*.npz"))


def test_image_folders_name_the_dataset_fer2013(tmp_path: Path) -> None:
    write_image(tmp_path / "kaggle" / "train" / "fear" / "Training_1.jpg", size=(48, 48))
    data = _load(tmp_path / "kaggle", tmp_path)
    assert data.name == "fer2013" and data.provenance["format"] == "fer2013-images"


def test_a_csv_known_by_its_file_name_is_found_in_any_folder_of_an_archive(tmp_path: Path) -> None:
    one = "\n".join([HEADER, *_rows(1)]).encode()
    tar = _tar(tmp_path / "d.tar.gz", {"README": b"x", "kaggle/data/fer2013.csv": one})
    assert read_fer2013_table(tar).source == f"{tar}:kaggle/data/fer2013.csv"


def test_an_archive_without_the_csv_lists_its_first_eight_members_or_nothing(tmp_path: Path) -> None:
    many = _tar(tmp_path / "many.tar", {f"f{i}.txt": b"x" for i in range(10)})
    listed = ", ".join(f"f{i}\\.txt" for i in range(8))
    with pytest.raises(
        DatasetError, match=rf"many\.tar: no fer2013/fer2013\.csv inside the archive \(found: {listed}\)$"
    ):
        read_fer2013_table(many)
    empty = _tar(tmp_path / "empty.tar", {})
    with pytest.raises(
        DatasetError, match=r"empty\.tar: no fer2013/fer2013\.csv inside the archive \(found: nothing\)$"
    ):
        read_fer2013_table(empty)


def test_the_first_pixel_value_above_255_is_the_one_quoted(tmp_path: Path) -> None:
    row = "1," + " ".join(["1"] * 2301 + ["255", "300", "400"]) + ",Training"
    path = _write(tmp_path / "fer2013.csv", [HEADER, row])
    with pytest.raises(DatasetError, match=r"line 2: pixel value 300 is not in 0\.\.255 \(pass skip_corrupt"):
        read_fer2013_table(path)


def test_a_last_row_with_no_pixel_values_is_skipped_and_the_others_kept(tmp_path: Path) -> None:
    path = _write(tmp_path / "fer2013.csv", [HEADER, *_rows(2), "3,,Training"])
    with pytest.warns(UserWarning, match=r"skipped 1 malformed row"):
        table = read_fer2013_table(path, skip_corrupt=True)
    assert len(table.emotion) == 2 and table.pixels[1].min() == 1 and table.rows == 3


def test_a_line_of_spaces_is_blank_and_a_short_row_is_malformed(tmp_path: Path) -> None:
    path = _write(tmp_path / "fer2013.csv", [HEADER, *_rows(1), "    ", "\r", "7", *_rows(1)])
    with pytest.warns(UserWarning, match=r"skipped 1 malformed rows, e\.g\. .*line 5: 1 fields, expected 3"):
        table = read_fer2013_table(path, skip_corrupt=True)
    assert len(table.emotion) == 2 and table.rows == 3 and table.lines.tolist() == [2, 6]


def test_a_header_without_pixels_is_quoted_up_to_80_characters(tmp_path: Path) -> None:
    header = "a," + "b" * 100
    path = _write(tmp_path / "fer2013.csv", [header, *_rows(1)])
    quoted = ("a," + "b" * 100)[:80]
    with pytest.raises(DatasetError, match=rf"not a FER2013 CSV: header '{quoted}' has no 'pixels' column"):
        read_fer2013_table(path)


def test_a_csv_without_emotions_names_the_files_to_give_instead(tmp_path: Path) -> None:
    path = _write(tmp_path / "test.csv", ["pixels", _pixels(1)])
    with pytest.raises(
        DatasetError,
        match=r"has no 'emotion' column: this looks like Kaggle's unlabeled test\.csv, which cannot be used "
        r"for training or evaluation; give fer2013\.csv \(or \.csv\.gz, fer2013\.tar\.gz, "
        r"icml_face_data\.csv, train\.csv\) instead$",
    ):
        read_fer2013_table(path)


def test_the_decode_cache_is_written_under_the_given_folder_and_named_by_the_format(tmp_path: Path) -> None:
    path = _write(tmp_path / "fer2013.csv", [HEADER, *_rows(3)])
    first = _load(path, tmp_path)
    assert [p.name.split("-")[0] for p in (tmp_path / "cache").glob("*.npz")] == ["fer2013"]
    assert first.provenance["cache"] == "miss" and _load(path, tmp_path).provenance["cache"] == "hit"


def test_a_path_that_cannot_be_read_is_named_with_the_reason(tmp_path: Path) -> None:
    folder = tmp_path / "fer2013.csv"
    folder.mkdir()  # a folder where the file was expected: even root cannot read it as a file
    with pytest.raises(DatasetError, match=rf"^{folder}: cannot read \(\[Errno 21\] Is a directory"):
        read_fer2013_table(folder)
