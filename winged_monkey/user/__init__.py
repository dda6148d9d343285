"""The user's side of the portal: the config file, secrets, paths, account import."""
