/// Hands a value that is not `Sendable` to exactly one other thread, which alone uses it from then
/// on: the one place where the compiler is told to trust that (`@unchecked`), so that each use is a
/// visible `UncheckedBox(…)` whose comment says who owns the value after.
package struct UncheckedBox<T>: @unchecked Sendable {
    package let value: T
    package init(_ value: T) { self.value = value }
}
