"""The snippet extractor and the nonzero-number check of run_snippets.py on
small Markdown texts (no server)."""

import os
import tempfile
import unittest

import run_snippets


def extract_text(text):
    with tempfile.NamedTemporaryFile("w", suffix=".md", delete=False) as f:
        f.write(text)
    try:
        return run_snippets.extract(f.name, "x.md")
    finally:
        os.unlink(f.name)


class ExtractTest(unittest.TestCase):
    def test_only_marked_blocks_are_taken_in_order(self):
        s = extract_text(
            "```python\nprint(0)\n```\n"
            "<!-- snippet-test: python -->\n```python\nprint(1.5)\n```\n"
            "text\n<!-- snippet-test: sh -->\n\n~~~sh\necho 2.5\n~~~\n")
        self.assertEqual([(x.lang, x.text) for x in s],
                         [("python", "print(1.5)\n"), ("sh", "echo 2.5\n")])
        self.assertEqual(s[0].line, 5)  # the opening fence

    def test_no_marker_gives_no_snippet(self):
        self.assertEqual(extract_text("# t\n```js\nx\n```\n"), [])

    def test_marker_without_block_is_an_error(self):
        with self.assertRaisesRegex(ValueError, "not followed by a fenced"):
            extract_text("<!-- snippet-test: node -->\ntext\n")

    def test_unknown_language_is_an_error_listing_the_valid_ones(self):
        with self.assertRaisesRegex(ValueError, "python, node, sh"):
            extract_text("<!-- snippet-test: ruby -->\n```\nx\n```\n")

    def test_unterminated_block_is_an_error(self):
        with self.assertRaisesRegex(ValueError, "unterminated"):
            extract_text("<!-- snippet-test: sh -->\n```\necho 1.0\n")


class NonzeroNumbersTest(unittest.TestCase):
    def test_zeros_nans_integers_addresses_and_versions_do_not_count(self):
        self.assertEqual(run_snippets.nonzero_numbers(
            "[0. 0. 0.] nan inf 20000 networks 127.0.0.1:43211 v0.1.0 "
            "jobs/ab12 jobs/66e4ffa1 0.000e+00"), [])

    def test_a_physical_value_counts(self):
        self.assertEqual(run_snippets.nonzero_numbers(
            "G2 = 0.2156 +- 1.8e-3 z = -0.44"), ["0.2156", "1.8e-3", "-0.44"])


if __name__ == "__main__":
    unittest.main()
