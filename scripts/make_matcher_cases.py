#!/usr/bin/env python3
"""Verdicts of the official MMAU/MMAR answer matcher on a set of cases, for auscult's tests.

    python3 scripts/make_matcher_cases.py   # writes tests/fixtures/benchmark/matcher_cases.json

`string_match` below is the matcher of the official MMAU/MMAR evaluation scripts, unchanged;
the cases exercise its quirks: case, punctuation,
words shared between choices, a wrong choice's word anywhere in the prediction, numbers,
letters, underscores, non-ASCII words and empty predictions.
"""

import json
import re


def string_match(answer, prediction, choices):
    # Official matcher: tokenize, then require every answer token and no wrong-choice token.
    def tokenize(text):
        return set(re.findall(r"\b\w+\b", text.lower()))

    prediction_tokens = tokenize(prediction)
    answer_tokens = tokenize(answer)
    if not prediction_tokens:
        return False
    incorrect_tokens = set()
    for choice in choices:
        choice_tokens = tokenize(choice)
        if choice_tokens != answer_tokens:
            incorrect_tokens.update(choice_tokens - answer_tokens)
    cond1 = answer_tokens.issubset(prediction_tokens)
    cond2 = prediction_tokens.isdisjoint(incorrect_tokens)
    return cond1 and cond2


SPEAKER = ["Man", "Woman", "Child", "Robot"]
CASES = [
    ("Man", "Man", SPEAKER),
    ("The speaker is a man.", "Man", SPEAKER),
    ("MAN", "Man", SPEAKER),
    ("Woman", "Man", SPEAKER),
    ("A man, not a woman", "Man", SPEAKER),
    ("", "Man", SPEAKER),
    ("...", "Man", SPEAKER),
    ("dog barking", "Dog barking", ["Dog", "Dog barking", "Cat"]),
    ("dog", "Dog barking", ["Dog", "Dog barking", "Cat"]),
    ("dog barking", "Dog", ["Dog", "Dog barking", "Cat"]),
    ("a dog", "Dog", ["Dog", "Dog barking", "Cat"]),
    ("RISING-pitch.", "Rising pitch", ["Rising pitch", "Falling pitch", "Constant pitch"]),
    ("rising, then falling", "Rising pitch", ["Rising pitch", "Falling pitch", "Constant pitch"]),
    ("pitch", "Rising pitch", ["Rising pitch", "Falling pitch", "Constant pitch"]),
    ("3 times", "3", ["2", "3", "4"]),
    ("3 or 4", "3", ["2", "3", "4"]),
    ("three", "3", ["2", "3", "4"]),
    ("The answer is B", "B", ["A", "B"]),
    ("It is a B", "B", ["A", "B"]),
    ("(B) Falling", "(B) Falling", ["(A) Rising", "(B) Falling"]),
    ("B", "(B) Falling", ["(A) Rising", "(B) Falling"]),
    ("speech_2", "speech_2", ["speech_1", "speech_2"]),
    ("speech 2", "speech_2", ["speech_1", "speech_2"]),
    ("Über", "Über", ["Über", "Unter"]),
    ("über alles", "Über", ["Über", "Unter"]),
    ("Jazz and blues", "Jazz", ["Jazz", "Blues", "Rock"]),
    ("jazz", "Jazz", ["Jazz", "Jazz", "Rock"]),
    ("Yes", "Yes", ["Yes", "No"]),
    ("yes, no doubt", "Yes", ["Yes", "No"]),
    ("The sound of a car engine", "Car engine", ["Car engine", "Motorcycle engine", "Truck"]),
    ("engine of a motorcycle", "Car engine", ["Car engine", "Motorcycle engine", "Truck"]),
]


def main():
    out = [
        {"prediction": p, "answer": a, "choices": c, "correct": string_match(a, p, c)}
        for p, a, c in CASES
    ]
    with open("tests/fixtures/benchmark/matcher_cases.json", "w") as f:
        json.dump(out, f, indent=1, ensure_ascii=False)
        f.write("\n")
    print(f"{len(out)} cases, {sum(c['correct'] for c in out)} correct")


if __name__ == "__main__":
    main()
