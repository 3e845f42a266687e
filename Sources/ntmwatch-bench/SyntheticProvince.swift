import Foundation
import NTMAlertingTestSupport

/// Writes a synthetic province as import files: the sample's criteria catalogue and targets, and
/// made-up districts, communes, villages, assessments, recognitions, roadmap, dossier stages,
/// obligations with completions, projects with debts and disbursements, capital plans with their
/// disbursements, surveys and commune mergers, sized by the parameters, so that every module has
/// work. Deterministic for the same parameters.
struct SyntheticProvince {
    var communes: Int
    var villagesPerCommune: Int
    var projectsPerCommune: Int
    var years: ClosedRange<Int>

    func write(to folder: String, catalogueFrom sample: String) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for file in ["criteria-sets.csv", "criteria.csv", "targets.csv"] {
            let target = (folder as NSString).appendingPathComponent(file)
            try? FileManager.default.removeItem(atPath: target)
            try FileManager.default.copyItem(atPath: (sample as NSString).appendingPathComponent(file), toPath: target)
        }
        // The sample's targets are scoped to its province; here they belong to the synthetic one.
        let targets = (folder as NSString).appendingPathComponent("targets.csv")
        let scoped = try String(contentsOfFile: targets, encoding: .utf8).split(separator: "\n").enumerated().map { index, line in
            index == 0 || !line.hasSuffix(",49") ? String(line) : line.dropLast(2) + "P"
        }
        try (scoped.joined(separator: "\n") + "\n").write(toFile: targets, atomically: true, encoding: .utf8)
        var random = SplitMix(seed: UInt64(communes))
        let districts = max(1, communes / 12)
        let regions = ["plains", "midland", "mountain"]
        func commune(_ i: Int) -> String { String(format: "C%05d", i) }

        // One commune in 50 merged into its neighbour at the end of the period's first year.
        func mergedInto(_ c: Int) -> Int? { c % 50 == 49 && c > 0 ? c - 1 : nil }
        let mergedOn = "\(years.lowerBound)-12-31"
        var units = "id,name,level,parent_id,region,valid_from,valid_to,successor_id\nP,Tỉnh Mẫu,province,,,,,\n"
        for d in 0..<districts { units += "D\(d),Huyện \(d),district,P,\(regions[d % 3]),,,\n" }
        // Successors first: the import wants a unit before a row that names it.
        for c in 0..<communes where mergedInto(c) == nil {
            units += "\(commune(c)),Xã \(c),commune,D\(c % districts),\(regions[(c % districts) % 3]),,,\n"
        }
        for c in 0..<communes {
            if let successor = mergedInto(c) {
                units += "\(commune(c)),Xã \(c),commune,D\(c % districts),\(regions[(c % districts) % 3]),,\(mergedOn),\(commune(successor))\n"
            }
            for v in 0..<villagesPerCommune { units += "\(commune(c))-\(v),Thôn \(v),village,\(commune(c)),\(regions[(c % districts) % 3]),,,\n" }
        }
        var recognitions = "unit_id,tier,recognized_on,decision,set_id,revoked_on,revocation_decision\n"
        var obligations = "id,title_vi,title_en,legal_basis,responsible_unit_id,responsible_body,submits_to,schedule,semantics,starts_on,ends_on,depends_on,reminder_days,status\n"
        var completions = "obligation_id,occurrence,completed_at\n"
        var capitalPlans = "id,unit_id,project_id,year,source,assigned_vnd,carried_over_from,due_on\n"
        var capitalDisbursements = "plan_id,on_date,cumulative_vnd\n"
        var reallocation = "unit_id,year,filed_on\n"
        for d in 0..<districts {
            // A yearly report per district, done in most years; a monthly one for the province.
            obligations += "OB-D\(d),Huyện \(d) báo cáo kết quả năm,District \(d) yearly report,synthetic,D\(d),UBND huyện,UBND tỉnh,yearly:12-15,by,\(years.lowerBound)-01-01,,,14,open\n"
            for year in years where random.next() % 4 != 0 {
                completions += "OB-D\(d),\(year)-12-15,\(year)-12-10T09:00:00+07:00\n"
            }
            for year in years {
                let plan = "KH-D\(d)-\(year)"
                let assigned = Int64(5 + random.next() % 20) * 1_000_000_000
                capitalPlans += "\(plan),D\(d),,\(year),central,\(assigned),,\n"
                capitalDisbursements += "\(plan),\(year)-06-30,\(assigned * Int64(random.next() % 60) / 100)\n"
                capitalDisbursements += "\(plan),\(year)-12-31,\(assigned * Int64(40 + random.next() % 61) / 100)\n"
                if random.next() % 3 != 0 { reallocation += "D\(d),\(year),\(year)-10-0\(1 + random.next() % 9)\n" }
            }
        }
        obligations += "OB-P,Tỉnh báo cáo tháng,Province monthly report,synthetic,P,Văn phòng Điều phối,Ban Chỉ đạo,monthly:20,before,\(years.lowerBound)-01-01,,,5,open\n"
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
            // About half the communes are recognized by their target year; a fifth of those advance.
            if mergedInto(c) == nil, random.next() % 2 == 0 {
                recognitions += "\(id),ntm,\(target)-12-20,QĐ \(c)/QĐ-UBND,xa-ntm-2021-2025,,\n"
                if random.next() % 5 == 0, target < years.upperBound {
                    recognitions += "\(id),nang_cao,\(target + 1)-12-20,QĐ \(c)a/QĐ-UBND,xa-ntm-2021-2025,,\n"
                }
            }
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
                     "projects.csv": projects, "debts.csv": debts, "disbursements.csv": disbursements, "surveys.csv": surveys,
                     "recognitions.csv": recognitions, "obligations.csv": obligations, "completions.csv": completions,
                     "capital-plans.csv": capitalPlans, "capital-disbursements.csv": capitalDisbursements,
                     "reallocation-reports.csv": reallocation]
        for (name, text) in files {
            try text.write(toFile: (folder as NSString).appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
    }
}
