import Testing

@testable import IntakeCore

@Suite struct XMLReaderTests {
    private func read(_ bytes: [UInt8], _ fields: XMLRecordReader.Fields = .textOfChildren, single: Bool = false) throws -> [String] {
        let reader = XMLRecordReader(fileName: "data.xml", source: MemoryByteSource(bytes), fields: fields, singleRecord: single)
        var out: [String] = []
        while let r = try reader.next() { out.append(r.value.compactJSON) }
        return out
    }

    private func read(_ text: String, _ fields: XMLRecordReader.Fields = .textOfChildren, single: Bool = false) throws -> [String] {
        try read(Array(text.utf8), fields, single: single)
    }

    @Test func textOfChildrenSpecExample() throws {
        #expect(try read("<root> <v/> <v><x>PING</x><y>PONG</y></v> </root>") == ["{}", #"{"x":"PING","y":"PONG"}"#])
    }

    @Test func fullTextContentUntrimmedWithCDATAAndLastDuplicateWins() throws {
        let xml = "<root><r><a> one <b>two</b><![CDATA[<3>]]></a><e/><a>again</a><c>x</c></r></root>"
        #expect(try read(xml) == [#"{"e":"","a":"again","c":"x"}"#])
        #expect(try read("<root><r><a> one <b>two</b><![CDATA[<3>]]></a></r></root>") == [#"{"a":" one two<3>"}"#])
        #expect(try read("<root/>") == [])
        #expect(try read("<root><a>1</a></root>", single: true) == [#"{"a":"1"}"#])
    }

    @Test func attributesAreKeyedByTheirNamesAsWrittenWithNamespaceDeclarations() throws {
        #expect(try read(#"<root a="b2" def="abc2"/>"#, .attributes, single: true) == [#"{"a":"b2","def":"abc2"}"#])
        #expect(
            try read(#"<root xmlns:p="urn:x"><p:r xmlns="urn:y" p:id="7" name="A &amp; B"/><r/></root>"#, .attributes) == [
                #"{"xmlns":"urn:y","name":"A & B","p:id":"7"}"#, "{}"
            ])
        #expect(try read(#"<root><p xmlns:hr="urn:x" hr:id="7"/></root>"#, .attributes) == [#"{"xmlns:hr":"urn:x","hr:id":"7"}"#])
        // Elements keep their local names in xml-text-of-children.
        #expect(try read(#"<root xmlns:hr="urn:x"><hr:r><hr:id>7</hr:id></hr:r></root>"#) == [#"{"id":"7"}"#])
    }

    @Test func charsetsFromTheDeclaration() throws {
        let cp1252: [UInt8] =
            Array("<?xml version=\"1.0\" encoding=\"windows-1252\"?><root><r><n>".utf8) + [0x63, 0x61, 0x66, 0xE9, 0x20, 0x80]
            + Array("</n></r></root>".utf8)
        #expect(try read(cp1252) == [#"{"n":"café €"}"#])
        let latin1: [UInt8] = Array("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><root><r><n>".utf8) + [0xE9] + Array("</n></r></root>".utf8)
        #expect(try read(latin1) == [#"{"n":"é"}"#])
        let text = "<?xml version=\"1.0\" encoding=\"UTF-16\"?><root><r><n>東京 Łódź</n></r></root>"
        let utf16: [UInt8] = [0xFF, 0xFE] + text.utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
        #expect(try read(utf16) == [#"{"n":"東京 Łódź"}"#])
        #expect(try read("\u{FEFF}<root><r><n>東京</n></r></root>") == [#"{"n":"東京"}"#])
    }

    @Test func malformedXMLIsFatalWithALine() throws {
        for bad in ["<root><r><a>1</a></r>", "<root>\n<r><a>1</b></r></root>", "<root></root>trailing", "", "not xml"] {
            #expect(throws: ReaderError.self) { try read(bad) }
        }
        do {
            _ = try read("<root>\n<r><a>1</a></r>\n<r><a>2</b></r></root>")
            Issue.record("expected an error")
        } catch {
            #expect((error as? ReaderError)?.message.hasPrefix("XML syntax error in data.xml at line 3") == true)
        }
    }

    /// The well-formedness pass parses without building records; it must refuse exactly what
    /// reading refuses, with the same message.
    @Test func checkingRefusesWhatReadingRefuses() throws {
        let cases: [(String, XMLRecordReader.Fields, Int)] = [
            ("<root>\n<r><a>1</a></r>\n<r><a>2</b></r></root>", .textOfChildren, 1 << 20),
            ("<root><r><a>1</a></r>", .textOfChildren, 1 << 20),
            ("", .textOfChildren, 1 << 20),
            ("<!DOCTYPE root [<!ENTITY e \"x\">]><root/>", .textOfChildren, 1 << 20),
            ("<root>\n<r><a>12345</a></r>\n<r><a>1234567890</a></r></root>", .textOfChildren, 8),
            ("<root>\n<r a=\"1\"/>\n<r a=\"1234567890\"/></root>", .attributes, 8),
            ("<root><r><a>fine</a></r><r b=\"2\"><c>also</c></r></root>", .textOfChildren, 1 << 20)
        ]
        for (xml, fields, limit) in cases {
            func reader() -> XMLRecordReader {
                XMLRecordReader(
                    fileName: "data.xml", source: MemoryByteSource(Array(xml.utf8)), fields: fields, singleRecord: false,
                    maxRecordBytes: limit)
            }
            var readError: ReaderError?
            do {
                let reading = reader()
                while try reading.next() != nil {}
            } catch { readError = error }
            var checkError: ReaderError?
            do {
                let checking = reader()
                _ = try checking.checkAll()
            } catch { checkError = error }
            #expect(checkError?.message == readError?.message, "\(xml)")
            #expect(checkError?.line == readError?.line, "\(xml)")
        }
    }

    @Test func externalEntitiesAreNeverRead() throws {
        let xxe = """
            <?xml version="1.0"?>
            <!DOCTYPE root [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
            <root><r><a>&xxe;</a></r></root>
            """
        #expect(
            throws: ReaderError("XML file data.xml refused: its DOCTYPE declares entities, which Intake does not expand (external entities are never read)")
        ) {
            try read(xxe)
        }
    }

    @Test func billionLaughsFailsFast() throws {
        var dtd = #"<!ENTITY lol "lol">"#
        for i in 2...9 {
            dtd += "<!ENTITY lol\(i) \"" + String(repeating: "&lol\(i == 2 ? "" : String(i - 1));", count: 10) + "\">"
        }
        let xml = "<?xml version=\"1.0\"?><!DOCTYPE lolz [\(dtd)]><lolz><r><a>&lol9;</a></r></lolz>"
        #expect(throws: ReaderError.self) { try read(xml) }
    }

    @Test func manyRecordsStreamThroughTheBoundedQueue() throws {
        let xml = "<root>" + String(repeating: "<p><id>1</id><name>Zoë</name></p>\n", count: 5000) + "</root>"
        let records = try read(xml)
        #expect(records.count == 5000)
        #expect(records.last == #"{"id":"1","name":"Zoë"}"#)
    }
}

extension XMLReaderTests {
    @Test func entitiesAfterALongPrologAreStillRefused() throws {
        let padding = "<!--" + String(repeating: "x", count: 200_000) + "-->"
        let xml = "<?xml version=\"1.0\"?>\(padding)<!DOCTYPE r [<!ENTITY e \"boom\">]><r><a><b>&e;</b></a></r>"
        #expect(throws: ReaderError.self) { _ = try XMLRecordReader.collect(xml) }
        // An ENTITY mentioned inside the document body is just text.
        #expect(try XMLRecordReader.collect("<r><a><b>&lt;!ENTITY</b></a></r>") == [#"{"b":"<!ENTITY"}"#])
        let longProlog = "<?xml version=\"1.0\"?><!--" + String(repeating: "y", count: 1_100_000) + "--><r/>"
        #expect(throws: ReaderError("XML file data.xml refused: its prolog (before the root element) is longer than 1 MiB")) {
            _ = try XMLRecordReader.collect(longProlog)
        }
    }
}

extension XMLRecordReader {
    static func collect(_ text: String) throws -> [String] {
        let reader = XMLRecordReader(fileName: "data.xml", source: MemoryByteSource(text), fields: .textOfChildren, singleRecord: false)
        var out: [String] = []
        while let r = try reader.next() { out.append(r.value.compactJSON) }
        return out
    }
}
