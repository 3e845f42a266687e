import NTMAlerting

/// Foundation also has a `Notification`; in this module the name means the alert one.
typealias Notification = NTMAlerting.Notification
