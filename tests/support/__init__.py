"""Test support: a real emulator, real Cognito users and tokens, and a way to mint the hostile
tokens that only a holder of moto's (public) signing key could make."""
