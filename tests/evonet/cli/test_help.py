"""The command line reads like a well-kept one: help for every flag with its default,
examples, one error format, and close matches for typos."""

import argparse

import pytest

from evonet.cli.main import COMMANDS, build_parser, main
from tests.helpers import evonet


def subparsers():
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return action.choices


@pytest.mark.parametrize("command", COMMANDS)
def test_every_flag_has_help_with_its_default_and_the_help_ends_with_examples(command):
    p = subparsers()[command]
    assert p.description.count(". ") == 0 and p.description.endswith("."), p.description
    for action in p._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        assert action.help, f"{command} {action.option_strings or action.dest}: no help"
        flags = action.option_strings
        if flags and not isinstance(
            action, (argparse._StoreTrueAction, argparse._StoreFalseAction)
        ):
            assert "(default: " in action.help, f"{command} {flags[0]}: {action.help}"
            assert "(default " not in action.help
    text = p.format_help()
    assert "\nexamples:\n  evonet " + command in text
    assert all(len(line) <= 80 for line in text.splitlines() if line.startswith("  evonet"))


def test_a_bare_evonet_lists_the_commands_one_line_each(capsys):
    assert main([]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert lines[0].startswith("usage: evonet") and "evonet --help" in lines[-1]
    listed = [line.split()[0] for line in lines[lines.index("commands:") + 1 :] if line[:2] == "  "]
    assert listed == ["train", "evolve", "evaluate", "watch", "play", "plot"]
    assert "  evolve    evolve networks to play a game" in lines
    assert all(len(line) <= 80 for line in lines)


@pytest.mark.parametrize(
    "argv,line",
    [
        (["evolv"], "evonet: error: unknown command 'evolv' (did you mean evolve?)"),
        (
            ["evolve", "snake", "--populaton", "500"],
            "evonet evolve: error: unrecognized arguments: --populaton 500 "
            "(did you mean --population?)",
        ),
        (
            ["watch", "--fsp=20"],
            "evonet watch: error: unrecognized argument: --fsp=20 (did you mean --fps?)",
        ),
        (["evolve", "snake", "--board", "3"], "evonet evolve: error: argument --board: expected"),
        (["evaluate", "nope.npz"], "evonet evaluate: error: nope.npz: no such file"),
        (["train", "cosine"], "evonet train: error: argument task: invalid choice: 'cosine'"),
        (["train", "sinus"], "evonet train: error: argument task: invalid choice: 'sinus'"),
        (["evolve", "snak"], "evonet evolve: error: unknown game 'snak' (did you mean snake?)"),
        (["evolve", "gim:CartPole-v1"], "unknown game 'gim:CartPole-v1' (did you mean gym:"),
        (["evolve", "tetris"], "evonet evolve: error: unknown game 'tetris'; supported: snake"),
    ],
)
def test_every_error_is_one_line_with_the_command_prefix(tmp_path, monkeypatch, capsys, argv, line):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and line in err[0] and err[0].startswith("evonet"), err


@pytest.mark.parametrize(
    "argv,hint",
    [
        (["train", "sinus"], "(did you mean sine?)"),
        (["evolve", "snake", "--strategy", "pgep"], "(did you mean pgpe?)"),
        (["evolve", "snake", "--config", "s.toml"], "'populaton' (did you mean population?);"),
        (["train", "xyz"], ""),  # nothing close: no guess
    ],
)
def test_a_mistyped_choice_game_or_setting_gets_a_suggestion(
    tmp_path, monkeypatch, capsys, argv, hint
):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "s.toml").write_text("populaton = 500\n")
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert (hint in err) if hint else "did you mean" not in err, err


@pytest.mark.slow
def test_help_runs_as_a_process_and_names_the_commands(tmp_path):
    r = evonet("--help", cwd=tmp_path)
    assert r.returncode == 0
    assert "commands:" in r.stdout and "evonet evolve snake" in r.stdout
    assert "``" not in r.stdout  # no developer docstring


def test_every_run_setting_is_a_flag_with_the_help_of_its_one_definition():
    import dataclasses

    from evonet.evolution.config import EvolveConfig
    from evonet.fields import help_of
    from evonet.search.ga import GAConfig

    p = subparsers()["evolve"]
    flags = {a.dest: a for a in p._actions if a.option_strings}
    for f in dataclasses.fields(EvolveConfig):
        if f.name == "game":
            continue
        assert f.name in flags, f"--{f.name.replace('_', '-')} is missing"
        assert help_of(EvolveConfig, f.name).rstrip(".")[1:] in flags[f.name].help
    # The GA's settings are defined once, in GAConfig, and EvolveConfig takes them as they are.
    for f in dataclasses.fields(GAConfig):
        assert help_of(EvolveConfig, f.name) == help_of(GAConfig, f.name)
        assert getattr(EvolveConfig(), f.name) == getattr(GAConfig(), f.name)
