"""Cognito's part of the local stand-in for AWS: a Cognito Identity Provider endpoint on
loopback that checks passwords as Cognito does (a real SRP exchange, first-login and forgotten
passwords) and keeps ONE password store, while the emulator still issues the tokens.

srp (the SRP-6a math of Cognito's clients, server side), passwords (the store: the local
credentials file, the emulator kept in step, reset codes), sessions (challenge state with
Cognito's 3-minute expiry, on an injectable clock), flows (the operations), endpoint (the HTTP
server speaking Cognito's JSON protocol). Never packaged for AWS.
"""
