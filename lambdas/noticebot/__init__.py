"""noticebot: a personal RAG chatbot platform behind a group notice board.

The package is the Lambda asset. Domain, services and ports import no AWS SDK;
adapters live under ``adapters/`` and are chosen by ``bootstrap``.
"""

__version__ = "0.1.0"
