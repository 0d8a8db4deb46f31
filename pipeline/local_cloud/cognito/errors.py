"""Cognito's errors as its JSON protocol carries them: a type, a message, a status (400 for
everything a client got wrong)."""

from __future__ import annotations

INCORRECT_CREDENTIALS = "Incorrect username or password."


class CognitoError(Exception):
    def __init__(self, error_type: str, message: str, status: int = 400) -> None:
        super().__init__(f"{error_type}: {message}")
        self.error_type = error_type
        self.message = message
        self.status = status


def not_authorized(message: str = INCORRECT_CREDENTIALS) -> CognitoError:
    return CognitoError("NotAuthorizedException", message)


def invalid_parameter(message: str) -> CognitoError:
    return CognitoError("InvalidParameterException", message)
