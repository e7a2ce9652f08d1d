"""Push notifications through Expo: the client, the shared rate gate."""
