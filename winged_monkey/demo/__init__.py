"""The demo and test cloud: a real moto EC2/STS/IAM server on loopback, seeded with instances.

Importing this package imports nothing heavy (moto and boto3 load when a server
starts) and never Textual. Use `winged_monkey.demo.server.MotoServer` and
`winged_monkey.demo.seed.build_demo`.
"""
