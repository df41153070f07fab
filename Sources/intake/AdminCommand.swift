import ArgumentParser
import Foundation
import IntakeApp
import IntakeStore

struct AdminCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "admin", abstract: "Create admin UI accounts, change their passwords, disable, enable, delete and list them.",
        discussion: """
            The password is asked for twice, without echo, on a terminal; a script passes it as the \
            first line of standard input. Passwords need at least \\(AdminAccounts.minimumPasswordLength) \
            characters and are stored as bcrypt hashes (cost \\(AdminAccounts.bcryptCost)).

            Examples:
              intake admin create ada
              printf '%s\\\\n' "$PASSWORD" | intake admin passwd ada --data /var/lib/intake/data
              intake admin disable ada        # signs ada out everywhere; enable undoes it
              intake admin create grace --role operator
              intake admin role grace viewer

            Roles: viewer (reads every page, changes nothing), operator (also batches, dry runs, \
            imports, approvals, retries, rollbacks), admin (everything, the default).
            """,
        subcommands: [Create.self, Passwd.self, Role.self, Disable.self, Enable.self, Delete.self, List.self])

    static func role(_ text: String) throws -> AdminRole {
        guard let role = AdminRole(rawValue: text) else { throw ValidationError("Unknown role '\(text)': use viewer, operator or admin.") }
        return role
    }

    struct Role: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Give an account another role (from its next request on).")
        @OptionGroup var data: DataOptions
        @Argument(help: "The account's name.") var name: String
        @Argument(help: "viewer, operator or admin.") var role: String

        func run() async throws {
            let role = try AdminCommand.role(role)
            try await withAccounts(data) { try await $0.setRole(name: name, role) }
            print("Admin account \(name) is now \(role.rawValue == "admin" ? "an" : "a") \(role.rawValue).")
        }
    }

    struct Disable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop an account from signing in, and end its sessions.")
        @OptionGroup var data: DataOptions
        @Argument(help: "The account's name.") var name: String

        func run() async throws {
            try await withAccounts(data) { try await $0.setDisabled(name: name, true) }
            print("Disabled admin account \(name).")
        }
    }

    struct Enable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Let a disabled account sign in again.")
        @OptionGroup var data: DataOptions
        @Argument(help: "The account's name.") var name: String

        func run() async throws {
            try await withAccounts(data) { try await $0.setDisabled(name: name, false) }
            print("Enabled admin account \(name).")
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete an account and end its sessions.")
        @OptionGroup var data: DataOptions
        @Argument(help: "The account's name.") var name: String

        func run() async throws {
            try await withAccounts(data) { try await $0.delete(name: name) }
            print("Deleted admin account \(name).")
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create an account.")
        @OptionGroup var data: DataOptions
        @Argument(help: "The account's name (letters, digits, dots, dashes, underscores).") var name: String
        @Option(help: "viewer, operator or admin.") var role: String = "admin"

        func run() async throws {
            let role = try AdminCommand.role(role)
            try await withAccounts(data) { try await $0.create(name: name, password: try PasswordInput.read(), role: role) }
            print("Created admin account \(name) (\(role.rawValue)).")
        }
    }

    struct Passwd: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Set an account's password.")
        @OptionGroup var data: DataOptions
        @Argument(help: "The account's name.") var name: String

        func run() async throws {
            try await withAccounts(data) { try await $0.changePassword(name: name, password: try PasswordInput.read()) }
            print("Changed the password of \(name).")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One line per account: name, created, password changed, active or disabled, role.")
        @OptionGroup var data: DataOptions

        func run() async throws {
            for account in try await Storage.open(data).store.adminAccounts() {
                print(
                    [
                        account.name, Timestamp.string(account.created), Timestamp.string(account.passwordChanged),
                        account.disabled ? "disabled" : "active", account.role.rawValue
                    ].joined(separator: "\t"))
            }
        }
    }
}

/// Runs one change to the data directory's admin accounts; a refusal becomes one line and exit status 2.
private func withAccounts(_ data: DataOptions, _ change: (AdminAccounts) async throws -> Void) async throws {
    let directory = try await Storage.open(data)
    try await refusalsAsErrors { try await change(AdminAccounts(store: directory.store)) }
}

/// A refusal (a taken name, a short password) as one line and exit status 2.
private func refusalsAsErrors(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let refusal as AdminAccounts.Refusal {
        FileHandle.standardError.write(Data("\(refusal.userMessage)\n".utf8))
        throw ExitCode(2)
    }
}

/// A new password: asked twice without echo on a terminal, else the first line of standard input.
enum PasswordInput {
    static func read() throws -> String {
        if isatty(STDIN_FILENO) == 1 {
            guard let first = getpass("Password: ").map({ String(cString: $0) }),
                let second = getpass("Password again: ").map({ String(cString: $0) })
            else { throw ValidationFailure("No password was entered") }
            guard first == second else { throw ValidationFailure("The two passwords differ") }
            return first
        }
        guard let line = Swift.readLine(strippingNewline: true), !line.isEmpty else {
            throw ValidationFailure("No password on standard input (the first line is the password)")
        }
        return line
    }
}
