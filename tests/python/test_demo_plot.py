"""exitflow.demo_plot: the demo's time series CSV (DemoTimeSeries.java) to one PNG."""

from __future__ import annotations

from pathlib import Path

import matplotlib.image as mpimg
import pytest

from exitflow import demo_plot

# DemoTimeSeriesTest.HEADER_4_STAGES (Java): the header the demo writes for a 4-stage bundle.
HEADER = (
    "t_s,input_rate,target_rate,windows_per_s,accuracy,exits_0,exits_1,exits_2,exits_3,threshold_0,"
    "threshold_1,threshold_2,threshold_version,e2e_p50_ms,e2e_p99_ms,dead_letters"
)


def write_series(path: Path, rows: int) -> None:
    """A run of `rows` 2-second intervals: the rate doubles half-way and the controller lowers stage 0's threshold."""
    lines = [HEADER]
    for i in range(rows):
        rate = 1500 if i < rows // 2 else 3000
        version = 0 if i < rows // 2 else 1_796_085_378_922
        t0 = 0.99 if version == 0 else 0.6
        p50 = "" if i == 0 else f"{100 + i}"
        acc = "" if i == 0 else "0.95"
        lines.append(
            f"{2 * (i + 1)},{rate},{rate},{rate / 32:.1f},{acc},{rate / 40},{rate / 400},1.5,0.5,"
            f"{t0},0.9,0.8,{version},{p50},{p50 and int(p50) * 3},{i}"
        )
    path.write_text("\n".join(lines) + "\n")


def test_draws_a_png_with_every_panel(tmp_path: Path) -> None:
    csv = tmp_path / "series.csv"
    write_series(csv, 20)
    out = tmp_path / "plots" / "demo.png"
    assert demo_plot.main([str(csv), "--out", str(out), "--title", "test run"]) == 0
    image = mpimg.imread(out)
    assert image.shape[0] == 1300 and image.shape[1] == 1000, "10 x 13 in at 100 dpi"
    assert image[:, :, :3].std() > 0.05, "something is drawn"
    frame = demo_plot.load_series(csv)
    assert demo_plot.stage_columns(list(frame.columns), "exits_") == ["exits_0", "exits_1", "exits_2", "exits_3"]
    assert demo_plot.stage_columns(list(frame.columns), "threshold_") == ["threshold_0", "threshold_1", "threshold_2"]


@pytest.mark.parametrize(
    "content, message",
    [
        ("a,b\n1,2\n", "not a demo time series"),
        (HEADER + "\n", "no intervals recorded"),
        ("", "not a readable CSV"),
    ],
)
def test_refuses_what_is_not_a_demo_series(
    tmp_path: Path, content: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    csv = tmp_path / "bad.csv"
    csv.write_text(content)
    assert demo_plot.main([str(csv), "--out", str(tmp_path / "x.png")]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "x.png").exists()
