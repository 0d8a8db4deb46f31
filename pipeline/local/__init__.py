"""The local target: the whole platform on loopback, with moto as the AWS emulator."""
