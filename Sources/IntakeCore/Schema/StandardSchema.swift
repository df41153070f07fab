/// The built-in schema of docs/schema.md, always present.
package enum StandardSchema {
    package static let titleAttribute = "dc:attribute:title"
    package static let typeAttribute = "dc:attribute:type"
    package static let usernameAttribute = "std:attribute:username"
    package static let behaviourAttribute = "std:attribute:configured-behaviour"
    package static let personType = "std:type:person"

    package static func make() -> Schema {
        var schema = Schema()
        let attributes: [AttributeDefinition] = [
            .init(code: "dc:attribute:title", name: "Title", dataType: .text),
            .init(code: "dc:attribute:type", name: "Type", dataType: .objectType),
            .init(code: "dc:attribute:author", name: "Author", dataType: .ref, linkedTypes: ["std:type:person"]),
            .init(code: "dc:attribute:date", name: "Date", dataType: .datetime),
            .init(code: "dc:attribute:subject", name: "Subject", dataType: .ref),
            .init(code: "std:attribute:email", name: "Email", dataType: .emailAddress),
            .init(code: "std:attribute:telephone", name: "Telephone", dataType: .telephoneNumber),
            .init(code: "std:attribute:address", name: "Address", dataType: .postalAddress),
            .init(code: "std:attribute:url", name: "URL", dataType: .url),
            .init(code: "std:attribute:job-title", name: "Job title", dataType: .text),
            .init(code: "std:attribute:notes", name: "Notes", dataType: .textParagraph),
            .init(code: "std:attribute:username", name: "Username", dataType: .text),
            .init(code: "std:attribute:works-for", name: "Works for", dataType: .ref, linkedTypes: ["std:type:organisation"]),
            .init(code: "std:attribute:isbn", name: "ISBN", dataType: .isbn),
            .init(code: "std:attribute:configured-behaviour", name: "Configured behaviour", dataType: .configurationName)
        ]
        let qualifiers: [QualifierDefinition] = [
            .init(code: "dc:qualifier:alternative", name: "Alternative"),
            .init(code: "std:qualifier:work", name: "Work"),
            .init(code: "std:qualifier:home", name: "Home"),
            .init(code: "std:qualifier:mobile", name: "Mobile")
        ]
        let person = [
            "dc:attribute:title", "dc:attribute:type", "std:attribute:email", "std:attribute:telephone",
            "std:attribute:address", "std:attribute:url", "std:attribute:job-title",
            "std:attribute:works-for", "std:attribute:username", "std:attribute:notes"
        ]
        let types: [TypeDefinition] = [
            .init(code: "std:type:person", name: "Person", attributes: person),
            .init(code: "std:type:person:staff", name: "Staff", parent: "std:type:person"),
            .init(code: "std:type:person:student", name: "Student", parent: "std:type:person"),
            .init(code: "std:type:person:researcher", name: "Researcher", parent: "std:type:person"),
            .init(code: "std:type:person:past", name: "Past person", parent: "std:type:person"),
            .init(
                code: "std:type:organisation", name: "Organisation",
                attributes: [
                    "dc:attribute:title", "dc:attribute:type", "std:attribute:address", "std:attribute:telephone",
                    "std:attribute:url", "std:attribute:notes"
                ]),
            .init(
                code: "std:type:project", name: "Project",
                attributes: [
                    "dc:attribute:title", "dc:attribute:type", "dc:attribute:author", "dc:attribute:date",
                    "dc:attribute:subject", "std:attribute:url", "std:attribute:notes"
                ]),
            .init(
                code: "std:type:book", name: "Book",
                attributes: [
                    "dc:attribute:title", "dc:attribute:type", "dc:attribute:author", "dc:attribute:date",
                    "dc:attribute:subject", "std:attribute:isbn", "std:attribute:url", "std:attribute:notes"
                ]),
            .init(
                code: "std:type:list", name: "List",
                attributes: [
                    "dc:attribute:title", "dc:attribute:type", "std:attribute:configured-behaviour", "std:attribute:notes"
                ])
        ]
        // The standard definitions are distinct by construction, so adding them cannot fail.
        for a in attributes { try? schema.add(a) }
        for q in qualifiers { try? schema.add(q) }
        for t in types { try? schema.add(t) }
        return schema
    }
}
