/// The version of this build of Intake, as `intake --version`, `/health` and the metrics report it.
/// Raised with each release, together with CHANGELOG.md.
package enum IntakeVersion {
    package static let current = "0.8.0"
}
