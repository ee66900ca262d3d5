"""Machine translation through a LibreTranslate-compatible server the organiser runs (Argos
models, on the same machine or the venue network): nobody's words leave the organiser's hands.

`LibreTranslate.translate(texts, source, target)`; `from_config` returns None without
`WORKSHOP_TRANSLATE_URL`. Every failure (down, slow, an error, an answer that is no translation)
raises `TranslationError`.
"""

from __future__ import annotations

import requests

#: Texts per request (LibreTranslate takes a list as `q`).
BATCH = 20


class TranslationError(Exception):
    """The engine could not translate: down, too slow, refused, or answered nonsense."""


class LibreTranslate:
    """The `/translate` and `/languages` endpoints of LibreTranslate's HTTP API."""

    def __init__(self, url: str, api_key: str = "", timeout: float = 10.0):
        self.url = url.rstrip("/")
        self._api_key = api_key
        self._timeout = timeout
        self._session = requests.Session()

    def translate(self, texts: list[str], source: str, target: str) -> list[str]:
        """Each text in `target`; empty texts stay empty and are not sent."""
        result = list(texts)
        todo = [i for i, text in enumerate(texts) if text.strip()]
        for start in range(0, len(todo), BATCH):
            chunk = todo[start : start + BATCH]
            answer = self._post([texts[i] for i in chunk], source, target)
            for i, text in zip(chunk, answer, strict=True):
                result[i] = text
        return result

    def _post(self, texts: list[str], source: str, target: str) -> list[str]:
        body = {"q": texts, "source": source, "target": target, "format": "text"}
        if self._api_key:
            body["api_key"] = self._api_key
        try:
            response = self._session.post(f"{self.url}/translate", json=body, timeout=self._timeout)
            response.raise_for_status()
            answer = response.json()["translatedText"]
        except (requests.RequestException, ValueError, KeyError, TypeError) as error:
            raise TranslationError(f"{self.url}: {error}") from error
        if isinstance(answer, str) and len(texts) == 1:
            answer = [answer]
        if (
            not isinstance(answer, list)
            or len(answer) != len(texts)
            or not all(isinstance(text, str) and text.strip() for text in answer)
        ):
            raise TranslationError(f"{self.url}: the answer is not one translation per text")
        return [text.strip() for text in answer]

    def languages(self) -> set[str]:
        """The codes the engine translates from (a health check for the console)."""
        try:
            response = self._session.get(f"{self.url}/languages", timeout=self._timeout)
            response.raise_for_status()
            return {item["code"] for item in response.json()}
        except (requests.RequestException, ValueError, KeyError, TypeError) as error:
            raise TranslationError(f"{self.url}: {error}") from error


def from_config(config: dict) -> LibreTranslate | None:
    """The engine `WORKSHOP_TRANSLATE_URL` names, or None (translation off)."""
    url = config.get("WORKSHOP_TRANSLATE_URL")
    if not url:
        return None
    return LibreTranslate(
        url,
        api_key=config.get("WORKSHOP_TRANSLATE_API_KEY") or "",
        timeout=float(config.get("WORKSHOP_TRANSLATE_TIMEOUT") or 10),
    )
