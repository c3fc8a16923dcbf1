import subprocess
import sys

from numbarnn.cli import main


def test_demo_prints_what_it_ran(capsys):
    assert main(["demo", "--batch", "4", "--timesteps", "10", "--features", "3",
                 "--units", "5", "--repeats", "2"]) == 0
    out = capsys.readouterr().out
    assert "device 'cpu'" in out and "M sequence-steps/s" in out and "output (4, 3)" in out


def test_demo_seed_fixes_data_and_weights(capsys):
    def counts(seed):
        assert main(["demo", "--batch", "64", "--timesteps", "6", "--features", "3",
                     "--units", "5", "--repeats", "1", "--seed", str(seed)]) == 0
        return capsys.readouterr().out.split("class counts")[1]
    assert counts(3) == counts(3)


def test_info(capsys):
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert "numbarnn" in out and "numba" in out and "cuda:" in out


def test_module_entry_point():
    done = subprocess.run([sys.executable, "-m", "numbarnn", "demo", "--batch", "2",
                           "--timesteps", "4", "--repeats", "1"], capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "forward: best of 1" in done.stdout


def test_demo_arguments_are_checked(capsys):
    import pytest
    for name in ("--repeats", "--batch", "--timesteps"):
        with pytest.raises(SystemExit) as exit_:
            main(["demo", name, "0"])
        assert exit_.value.code == 2
        assert f"argument {name}: expected a positive number" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_:
        main(["demo", "--seed", "-1"])
    assert exit_.value.code == 2
    assert "argument --seed: expected a non-negative integer" in capsys.readouterr().err


def test_info_names_the_threading_layer(capsys):
    assert main(["info"]) == 0
    assert "threading layer: unknown" not in capsys.readouterr().out


def test_version(capsys):
    import pytest
    import numbarnn
    with pytest.raises(SystemExit):
        main(["--version"])
    assert capsys.readouterr().out.strip() == f"numbarnn {numbarnn.__version__}"
