import Foundation

/// Writes a synthetic province as import files: the sample's criteria catalogue, and made-up
/// districts, communes, villages, assessments, roadmap, dossier stages, projects with debts and
/// disbursements, and surveys, sized by the parameters. Deterministic for the same parameters.
struct SyntheticProvince {
    var communes: Int
    var villagesPerCommune: Int
    var projectsPerCommune: Int
    var years: ClosedRange<Int>

    func write(to folder: String, catalogueFrom sample: String) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for file in ["criteria-sets.csv", "criteria.csv"] {
            let target = (folder as NSString).appendingPathComponent(file)
            try? FileManager.default.removeItem(atPath: target)
            try FileManager.default.copyItem(atPath: (sample as NSString).appendingPathComponent(file), toPath: target)
        }
        var random = SplitMix(seed: UInt64(communes))
        let districts = max(1, communes / 12)
        let regions = ["plains", "midland", "mountain"]
        func commune(_ i: Int) -> String { String(format: "C%05d", i) }

        var units = "id,name,level,parent_id,region\nP,Tỉnh Mẫu,province,,\n"
        for d in 0..<districts { units += "D\(d),Huyện \(d),district,P,\(regions[d % 3])\n" }
        for c in 0..<communes {
            units += "\(commune(c)),Xã \(c),commune,D\(c % districts),\(regions[(c % districts) % 3])\n"
            for v in 0..<villagesPerCommune { units += "\(commune(c))-\(v),Thôn \(v),village,\(commune(c)),\(regions[(c % districts) % 3])\n" }
        }
        var assessments = "unit_id,set_id,criterion_code,assessed_on,met,value\n"
        var roadmap = "unit_id,tier,target_year\n"
        var submissions = "unit_id,tier,year,stage,submitted_on\n"
        var projects = "id,name,commune_id,allocated_on,total_vnd,central_vnd,commune_vnd,settlement_approved_on\n"
        var debts = "project_id,budget_level,period,as_of,outstanding_vnd\n"
        var disbursements = "project_id,budget_level,on_date,cumulative_vnd\n"
        var surveys = "id,unit_id,surveyed_on,kind,respondents,satisfied\n"
        for c in 0..<communes {
            let id = commune(c)
            for year in years {
                for criterion in 1...19 {
                    let met = random.next() % 10 < 8
                    let value = criterion == 10 ? "\(40 + random.next() % 30)" : ""
                    assessments += "\(id),xa-ntm-2021-2025,\(criterion),\(year)-09-30,\(met ? 1 : 0),\(value)\n"
                }
                let respondents = 40 + Int(random.next() % 300)
                surveys += "S\(id)-\(year),\(id),\(year)-08-15,ntm_results,\(respondents),\(respondents - Int(random.next() % UInt64(respondents / 5 + 1)))\n"
            }
            let target = years.lowerBound + Int(random.next() % UInt64(years.count))
            roadmap += "\(id),ntm,\(target)\n"
            if random.next() % 2 == 0 { submissions += "\(id),ntm,\(target),commune_to_district,\(target)-10-20\n" }
            for p in 0..<projectsPerCommune {
                let project = "\(id)-P\(p)"
                let total = Int64(1 + random.next() % 50) * 100_000_000
                let central = total / 2
                let year = years.lowerBound + Int(random.next() % UInt64(years.count))
                let settled = random.next() % 3 == 0 ? "\(year + 1)-06-30" : ""
                projects += "\(project),Công trình \(p) xã \(c),\(id),\(year)-03-15,\(total),\(central),\(total - central),\(settled)\n"
                disbursements += "\(project),central,\(year)-06-30,\(central / 2)\n\(project),commune,\(year)-06-30,\((total - central) / 3)\n"
                if settled.isEmpty { debts += "\(project),commune,2021-2025,\(year)-12-31,\(total / 10)\n" }
            }
        }
        let files = ["units.csv": units, "assessments.csv": assessments, "roadmap.csv": roadmap, "submissions.csv": submissions,
                     "projects.csv": projects, "debts.csv": debts, "disbursements.csv": disbursements, "surveys.csv": surveys]
        for (name, text) in files {
            try text.write(toFile: (folder as NSString).appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
    }
}

/// A small deterministic generator (SplitMix64), so the same parameters give the same province.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed &+ 0x9E37_79B9_7F4A_7C15 }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
