"""What the commands print for people: wrapped at word boundaries in a terminal only."""

from evonet.cli import output

TEXT = (
    "evonet: finished at generation 15; the last generation's best: 27.2 apples; the "
    "run's best fitness (what evolution ranks by): 28.14"
)


def test_messages_wrap_at_words_in_a_terminal_and_stay_whole_elsewhere(monkeypatch, capsys):
    output.info(TEXT)  # capsys's stderr is no terminal: one line, for files and pipes
    assert capsys.readouterr().err == TEXT + "\n"
    monkeypatch.setattr(output, "_terminal_columns", lambda: 80)
    output.info(TEXT)
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 2 and all(len(line) <= 80 for line in lines)
    assert lines[0].endswith("27.2 apples; the")
    assert lines[1] == "  run's best fitness (what evolution ranks by): 28.14"
