"""What the smoke run uploads, asks and expects: a club handbook (indexed, searched, cited)
and its FAQ table (question/answer rows: enough examples for a fine-tune dataset)."""

from __future__ import annotations

import csv
import io

HANDBOOK_NAME = "smoke handbook.md"
HANDBOOK = """# Riverside cycling club handbook

## Helmets
Members must wear bicycle helmets on every club ride. Ride leaders turn away riders without one.

## Meeting point
Rides start at the north gate of the park at nine o'clock on Saturdays and Sundays.

## Lights
From October to March every bicycle carries a white front light and a red rear light.

## Membership fee
The yearly membership fee is forty euros, paid to the treasurer before the first of March.
""".encode()

FAQ_NAME = "smoke faq.csv"
FAQ_ROWS = [
    ("Do I need a helmet on club rides?", "Yes, members must wear bicycle helmets on every ride."),
    ("Where do rides start?", "Rides start at the north gate of the park."),
    ("When do rides start?", "Rides start at nine o'clock on Saturdays and Sundays."),
    ("Which lights do I need in winter?", "A white front light and a red rear light."),
    ("From when are lights required?", "From October to March."),
    ("How much is the membership fee?", "Forty euros a year."),
    ("When is the fee due?", "Before the first of March."),
    ("Who collects the fee?", "The treasurer collects the membership fee."),
    ("What happens without a helmet?", "Ride leaders turn away riders without a helmet."),
    ("Is there a Sunday ride?", "Yes, rides also start on Sundays at nine o'clock."),
    ("Which gate of the park?", "The north gate of the park."),
    ("Does the rear light have to be red?", "Yes, the rear light must be red."),
]


def faq_csv() -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(("question", "answer"))
    writer.writerows(FAQ_ROWS)
    return out.getvalue().encode()


SEARCH_QUERY = "bicycle helmets on club rides"
QUESTION = "Do I need a helmet on club rides?"
# What a dry run's model answers (moto plays the endpoint), for the base model and the adapter
# alike: backed by the handbook and the FAQ, so the product's support check keeps it. A real
# endpoint writes its own answers.
ANSWER = "Yes: members must wear bicycle helmets on every club ride [1].<|eot_id|>"
